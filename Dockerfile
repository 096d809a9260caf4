# The logtrace worker image (docker-compose builds it; `--scale worker=N` runs N of them in one group).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY parsers ./parsers
COPY mappings ./mappings
COPY kibana ./kibana
RUN pip install --no-cache-dir . && useradd --system --uid 10001 logtrace
USER logtrace
EXPOSE 6066
ENTRYPOINT ["logtrace"]
CMD ["worker"]
