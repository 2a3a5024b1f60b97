"""The deployment files parse, and name exactly the settings the app reads."""

import json
import re
from dataclasses import fields
from pathlib import Path

import yaml

from agency.core.config import Config

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {f.name.upper() for f in fields(Config)}


def _yaml_documents():
    for path in sorted((ROOT / "deploy").rglob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path, document


def test_every_yaml_file_parses():
    documents = list(_yaml_documents())
    kinds = {d.get("kind") for _, d in documents if "kind" in d}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Job", "ConfigMap", "Secret"} <= kinds


def test_compose_names_every_setting():
    compose = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text())
    environment = set(compose["x-app"]["environment"])
    assert environment == SETTINGS
    assert set(compose["services"]) >= {"web", "worker", "scheduler", "migrate", "postgres", "redis", "mail"}
    assert compose["services"]["scheduler"]["deploy"]["replicas"] == 1
    assert compose["services"]["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_kubernetes_names_every_setting_and_probes_the_app():
    config_map = next(d for _, d in _yaml_documents() if d.get("kind") == "ConfigMap")
    secret = next(d for _, d in _yaml_documents() if d.get("kind") == "Secret")
    assert set(config_map["data"]) | set(secret["stringData"]) == SETTINGS
    assert not set(config_map["data"]) & set(secret["stringData"])
    deployments = {d["metadata"]["name"]: d for _, d in _yaml_documents() if d.get("kind") == "Deployment"}
    web = deployments["agency-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    scheduler = deployments["agency-scheduler"]["spec"]
    assert scheduler["replicas"] == 1 and scheduler["strategy"]["type"] == "Recreate"


def test_env_example_documents_every_setting():
    names = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    }
    assert names >= SETTINGS
    assert names - SETTINGS <= {
        "GUNICORN_WORKER_CLASS",
        "GUNICORN_WORKERS",
        "GUNICORN_THREADS",
        "GUNICORN_BIND",
        "GUNICORN_TIMEOUT",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_ACCESS_LOG",
        "FORWARDED_ALLOW_IPS",
    }


def test_dashboard_queries_only_metrics_the_app_exports(client, open_metrics):
    dashboard = json.loads((ROOT / "deploy/grafana/agency-dashboard.json").read_text())
    exported = client.get("/metrics").get_data(as_text=True)
    names = {re.sub(r"_(bucket|count|sum|total)$", "", n) for n in re.findall(r"^# TYPE (\w+)", exported, re.M)}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = re.findall(r"\b(agency_[a-z_]+?)(?:_bucket|_count|_sum|_total)?\b[{\[ )]", target["expr"] + " ")
            assert used and all(re.sub(r"_(bucket|count|sum|total)$", "", u) in names for u in used), target["expr"]
