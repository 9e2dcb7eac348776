# iso20k-sync service image. Build: docker build -t iso20k-sync .
# Run the service (configuration and store on a volume; see compose.example.yaml):
#   docker run -d -v iso20k-data:/data -p 8080:8080 iso20k-sync serve -c /data/iso20k-sync.yaml
# Or a one-off command: docker run --rm -v "$PWD/out:/data" iso20k-sync plan --start 2027-01-04 -f xlsx -o /data/plan.xlsx
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ISO20K_DATA_DIR=/data ISO20K_CONFIG=/data/iso20k-sync.yaml
RUN useradd --create-home --uid 10001 iso20k
WORKDIR /app
COPY pyproject.toml README.md ./
COPY iso20k_sync ./iso20k_sync
COPY connectors ./connectors
COPY plan_templates ./plan_templates
# hadolint ignore=DL3013
RUN pip install ".[postgres]" && rm -rf /root/.cache

RUN mkdir /data && chown iso20k:iso20k /data
VOLUME ["/data"]
USER 10001
WORKDIR /data
EXPOSE 8080
# The service's liveness endpoint (service.http: host 0.0.0.0 in a container, port 8080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["iso20k-sync"]
CMD ["--help"]
