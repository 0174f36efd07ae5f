# ragops image: the library, the CLI and the Dagster code location.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    DO_NOT_TRACK=1 \
    DAGSTER_HOME=/opt/dagster/home

# libmagic for file type detection; poppler/tesseract are optional (PDF images, OCR).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml constraints.txt README.md Makefile ./
COPY scripts ./scripts
COPY src ./src
COPY connectors ./connectors
COPY dagster_defs ./dagster_defs

# CPU PyTorch first (a plain `pip install torch` pulls the CUDA build), then the pinned rest.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
 && pip install -c constraints.txt -e . \
 && pip uninstall -y torchvision \
 && bash scripts/install_spacy_model.sh

COPY deploy/dagster.yaml /opt/dagster/home/dagster.yaml
COPY deploy/workspace.yaml /app/workspace.yaml
COPY ragops.yaml ./
COPY docs ./docs
COPY evals ./evals
COPY prompts ./prompts
COPY deploy ./deploy

EXPOSE 3000 8080
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/app/workspace.yaml"]
