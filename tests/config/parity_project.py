"""A project with two environments defined every way gonogo reads, written to a temp dir.

staging and production each have an env file, a kustomize overlay over a shared base
(configMapGenerator literals, a strategic-merge patch file, an inline JSON 6902 patch,
the images and replicas transformers, an extra Service in production) and a Helm values
file over the chart's ``values.yaml``; the policy declares both with commands, toggles
and one allowed kind of difference (replicas).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

#: a literal secret production's env file holds; no output may ever contain it
LITERAL_PASSWORD = "hunter2-Literal-Db-Pass"
HELM_SECRET = "helm-values-Secret-Token-42"

POLICY = """
version = 1

[project]
name = "shop"

[owners]
operations = ["olga@example.com"]

[[gates]]
id = "environments"
title = "Environments"
phase = 3
owners = ["operations"]

[[gates.criteria]]
id = "parity"
check = "env-parity"

[[gates.criteria]]
id = "runbook"
check = "runbook"

[env.environments.staging]
description = "Pre-production: production's topology on one replica."
deploy = [
    "kubectl apply -k k8s/overlays/staging",
    "kubectl rollout status deployment/api -n staging",
]
rollback = ["kubectl rollout undo deployment/api -n staging"]
verify = ["curl -fsS https://staging.shop.example/healthz"]
toggles = { new_checkout = true, banner = "beta" }

[env.environments.production]
deploy = ["kubectl apply -k k8s/overlays/production"]
rollback = ["kubectl rollout undo deployment/api -n production"]
verify = ["curl -fsS https://shop.example/healthz"]
toggles = { new_checkout = false, banner = "beta" }

[[env.parity.allow]]
kind = "replicas"
reason = "production serves all traffic; staging runs one replica"
"""

FILES = {
    ".env.staging": """
        # Primary database
        DATABASE_URL=ref+vault://secret/shop/staging/db#url
        FEATURE_SEARCH=true
        CACHE_URL=redis://cache.staging:6379/0
        LOG_LEVEL=debug
        SESSION_SECRET_FILE=/run/secrets/session
        """,
    ".env.production": f"""
        DATABASE_URL=postgres://shop:{LITERAL_PASSWORD}@db.prod/shop
        FEATURE_SEARCH=false
        LOG_LEVEL=info
        SESSION_SECRET_FILE=/run/secrets/session
        """,
    "k8s/base/kustomization.yaml": """
        resources:
          - deployment.yaml
          - service.yaml
        """,
    "k8s/base/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          labels: {app: api}
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - name: api
                  image: ghcr.io/shop/api:1.4.0
                  resources:
                    requests: {cpu: 100m, memory: 128Mi}
                    limits: {cpu: 500m, memory: 256Mi}
                  env:
                    - name: API_TOKEN
                      valueFrom:
                        secretKeyRef: {name: api, key: token}
                    - name: WORKERS
                      value: "4"
        """,
    "k8s/base/service.yaml": """
        apiVersion: v1
        kind: Service
        metadata: {name: api}
        spec:
          ports: [{port: 80, targetPort: 8080}]
        """,
    "k8s/overlays/staging/kustomization.yaml": """
        resources:
          - ../../base
        configMapGenerator:
          - name: api-config
            literals:
              - PAYMENTS_ENABLED=true
              - REGION=eu-west-1
        images:
          - name: ghcr.io/shop/api
            newTag: 1.5.0-rc.1
        """,
    "k8s/overlays/production/kustomization.yaml": """
        resources:
          - ../../base
          - redis.yaml
        configMapGenerator:
          - name: api-config
            literals:
              - PAYMENTS_ENABLED=false
              - REGION=eu-west-1
        replicas:
          - name: api
            count: 3
        patches:
          - path: resources.yaml
          - target: {kind: Deployment, name: api}
            patch: |-
              - op: replace
                path: /spec/template/spec/containers/0/resources/requests/cpu
                value: "0.1"
        """,
    "k8s/overlays/production/resources.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          template:
            spec:
              containers:
                - name: api
                  resources:
                    limits: {cpu: "0.5", memory: 512Mi}
        """,
    "k8s/overlays/production/redis.yaml": """
        apiVersion: v1
        kind: Service
        metadata: {name: redis}
        spec:
          ports: [{port: 6379}]
        """,
    "charts/api/Chart.yaml": """
        apiVersion: v2
        name: api
        version: 0.1.0
        """,
    "charts/api/values.yaml": f"""
        replicaCount: 1
        image:
          repository: ghcr.io/shop/api
          tag: 1.4.0
        features:
          newSearch: false
        redis:
          enabled: false
        auth:
          apiToken: {HELM_SECRET}
        ingress:
          host: shop.example
        """,
    "charts/api/values-staging.yaml": """
        features:
          newSearch: true
        ingress:
          host: staging.shop.example
        """,
    "charts/api/values-production.yaml": """
        replicaCount: 4
        redis:
          enabled: true
        auth:
          apiToken: ref+vault://secret/shop/production/api#token
        """,
}


def write(root: Path, name: str, text: str) -> Path:
    """Write ``text`` (dedented) to ``root/name``, creating folders."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def write_project(root: Path, *, policy: str = POLICY) -> Path:
    """Write the two-environment project at ``root``; return ``root``."""
    write(root, "gonogo.toml", policy)
    for name, text in FILES.items():
        write(root, name, text)
    return root
