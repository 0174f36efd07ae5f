"""Adapters that let other frameworks use a ragops index.

LlamaIndex: ``Retriever.as_llama_index()`` (:mod:`ragops.integrations.llama_index`).
"""
