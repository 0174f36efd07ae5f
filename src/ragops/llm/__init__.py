"""LLMs: the OpenAI-compatible client, prompt files and their registry, and generated answers.

Importing this package imports neither ``openai`` nor the catalog; import the module you need
(``ragops.llm.client``, ``ragops.llm.prompts``, ``ragops.llm.answers``).
"""
