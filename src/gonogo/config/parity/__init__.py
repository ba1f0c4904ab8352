"""Environment parity: load each environment's definitions and compare two of them.

An environment is defined by its env files (``.env.staging``), its Kubernetes manifests
and kustomize overlays (``k8s/overlays/staging``), its Helm values
(``values-staging.yaml``) and its toggles in the policy. :func:`sources.load_environment`
gathers them into one :class:`model.EnvironmentDefinition`; :func:`compare.compare`
reports how two differ, minus what the policy allows.
"""
