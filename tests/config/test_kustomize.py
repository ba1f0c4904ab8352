"""What a kustomize overlay declares, resolved without kustomize: the parts parity reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gonogo.config.parity.patches import DELETE, json6902, strategic_merge
from gonogo.config.parity.sources import load_environment
from gonogo.config.refs import ValueKind
from gonogo.policy.environments import EnvPolicy
from tests.config.parity_project import write

BASE = {
    "k8s/base/kustomization.yaml": """
        resources: [worker.yaml, hpa.yaml]
        configMapGenerator:
          - name: worker-config
            literals: [QUEUE=jobs, BATCH_SIZE=10]
        """,
    "k8s/base/worker.yaml": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report, labels: {tier: batch}}
        spec:
          schedule: "0 * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: report
                      image: ghcr.io/shop/report:2.0
                      envFrom:
                        - configMapRef: {name: worker-config}
                          prefix: REPORT_
                      env:
                        - name: MODE
                          valueFrom:
                            configMapKeyRef: {name: worker-config, key: QUEUE}
                    - name: log-shipper
                      image: fluent/fluent-bit:3.0
        """,
    "k8s/base/hpa.yaml": """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api}
        spec: {minReplicas: 2, maxReplicas: 6}
        """,
    "k8s/overlays/qa/kustomization.yaml": """
        resources: [../../base]
        configMapGenerator:
          - name: worker-config
            behavior: merge
            literals: [BATCH_SIZE=50]
        secretGenerator:
          - name: worker-secrets
            envs: [secrets.env]
          - name: tls
            files: [tls.key]
        patchesStrategicMerge:
          - drop-shipper.yaml
        patchesJson6902:
          - target: {kind: HorizontalPodAutoscaler, name: api}
            path: hpa-patch.yaml
        patches:
          - target: {labelSelector: "tier=batch"}
            patch: |-
              apiVersion: batch/v1
              kind: CronJob
              metadata: {name: ignored-by-target}
              spec:
                jobTemplate:
                  spec:
                    template:
                      spec:
                        containers: [{name: report, image: "ghcr.io/shop/report:2.1"}]
        """,
    "k8s/overlays/qa/secrets.env": "REPORT_API_KEY=qa-literal-key\n",
    "k8s/overlays/qa/drop-shipper.yaml": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: log-shipper
                      $patch: delete
        """,
    "k8s/overlays/qa/hpa-patch.yaml": """
        - op: replace
          path: /spec/maxReplicas
          value: 3
        - op: add
          path: /spec/behavior
          value: {scaleDown: {stabilizationWindowSeconds: 60}}
        """,
}


def _qa(tmp_path: Path) -> Any:
    for name, text in BASE.items():
        write(tmp_path, name, text)
    return load_environment(tmp_path, EnvPolicy(), "qa")


def test_generators_merge_and_secrets_come_from_their_files(tmp_path: Path) -> None:
    qa = _qa(tmp_path)
    variables = qa.variables
    assert (variables["BATCH_SIZE"].value, variables["QUEUE"].value) == ("50", "jobs")
    assert variables["BATCH_SIZE"].where == "k8s/overlays/qa/kustomization.yaml"
    assert variables["QUEUE"].where == "k8s/base/kustomization.yaml"
    secret = variables["REPORT_API_KEY"]
    assert (secret.secret, secret.kind, secret.origin) == (
        True,
        ValueKind.LITERAL,
        "Secret worker-secrets",
    )
    assert "k8s/overlays/qa/secrets.env" in qa.files
    assert qa.warnings == (
        "k8s/overlays/qa/kustomization.yaml: secretGenerator file tls.key not found; skipped",
    )


def test_env_from_prefixes_and_config_map_key_refs_resolve(tmp_path: Path) -> None:
    variables = _qa(tmp_path).variables
    assert variables["REPORT_QUEUE"].value == "jobs"
    assert variables["REPORT_BATCH_SIZE"].value == "50"
    mode = variables["MODE"]
    assert (mode.value, mode.origin) == ("jobs", "ConfigMap worker-config, key QUEUE")


def test_patches_delete_a_container_change_an_hpa_and_select_by_label(tmp_path: Path) -> None:
    qa = _qa(tmp_path)
    facts = qa.facts
    assert "k8s.CronJob/report.container.report" in facts
    assert "k8s.CronJob/report.container.log-shipper" not in facts
    assert facts["k8s.HorizontalPodAutoscaler/api.maxReplicas"].value == "3"
    assert (
        facts["k8s.HorizontalPodAutoscaler/api.maxReplicas"].where
        == "k8s/overlays/qa/hpa-patch.yaml"
    )
    assert facts["k8s.HorizontalPodAutoscaler/api.minReplicas"].value == "2"
    image = facts["k8s.CronJob/report.container.report.image"]  # patched by label selector
    assert (image.value, image.where) == (
        "ghcr.io/shop/report:2.1",
        "k8s/overlays/qa/kustomization.yaml",
    )
    assert "k8s.CronJob/ignored-by-target" not in facts  # a target keeps the name


def test_a_folder_without_kustomization_is_read_as_plain_manifests(tmp_path: Path) -> None:
    write(
        tmp_path,
        "deploy/dev/api.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: 2}\n"
        "---\nnot: a kubernetes object\n",
    )
    write(tmp_path, "deploy/dev/notes.txt", "ignored")
    dev = load_environment(tmp_path, EnvPolicy(), "dev")
    assert dev.facts["k8s.Deployment/api.replicas"].value == "2"
    assert dev.files == ("deploy/dev/api.yaml",)


# --- properties of the patch engine --------------------------------------------------------

scalars = st.one_of(st.booleans(), st.integers(), st.text(max_size=5))
keys = st.text(alphabet="abcxyz", min_size=1, max_size=3)
documents = st.recursive(
    scalars,
    lambda inner: st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
).filter(lambda d: isinstance(d, dict))


@given(documents)
def test_an_empty_strategic_merge_patch_changes_nothing(document: dict[str, Any]) -> None:
    assert strategic_merge(document, {}) == document


@given(documents, documents)
def test_a_strategic_merge_keeps_the_patch_values(
    base: dict[str, Any], patch: dict[str, Any]
) -> None:
    merged = strategic_merge(base, patch)
    assert merged is not DELETE
    for key, value in patch.items():
        if not isinstance(value, dict):
            assert merged[key] == value
    for key in set(base) - set(patch):
        assert merged[key] == base[key]


@given(documents, keys, scalars)
def test_a_json_patch_add_then_remove_restores_the_document(
    document: dict[str, Any], key: str, value: Any
) -> None:
    if key in document:
        return
    added = json6902(document, [{"op": "add", "path": f"/{key}", "value": value}])
    assert added[key] == value
    assert json6902(added, [{"op": "remove", "path": f"/{key}"}]) == document
