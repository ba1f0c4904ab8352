"""GitHub Actions workflows: ``env:`` of the workflow, of each job, step, container and service.

The environment is the job's ``environment:`` (``production``, or ``{name: staging}``)
and *ci* otherwise. ``${{ secrets.X }}`` comes from GitHub's secret store (managed);
other ``${{ … }}`` expressions are evaluated at run time.
"""

from __future__ import annotations

from yaml.nodes import Node

from gonogo.config.refs import value_kind
from gonogo.config.scanners.interface import Definition, FileInput, FileScan, Source
from gonogo.config.scanners.yamlnodes import documents, get, items, line, pairs, scalar

DEFAULT_ENVIRONMENT = "ci"


def scan_workflow(file: FileInput) -> FileScan:
    """Every ``env:`` definition of one workflow file."""
    result = FileScan()
    docs, warning = documents(file.text, file.rel)
    if warning is not None:
        result.warnings.append(warning)
        return result
    for doc in docs:
        result.definitions += _env(file.rel, get(doc, "env"), DEFAULT_ENVIRONMENT, "workflow")
        for job_key, job in pairs(get(doc, "jobs")):
            environment = _job_environment(job)
            job_name = f"job {job_key.value}"
            result.definitions += _env(file.rel, get(job, "env"), environment, job_name)
            container = get(job, "container")
            result.definitions += _env(
                file.rel, get(container, "env"), environment, f"{job_name} container"
            )
            for service_key, service in pairs(get(job, "services")):
                where = f"{job_name} service {service_key.value}"
                result.definitions += _env(file.rel, get(service, "env"), environment, where)
            for index, step in enumerate(items(get(job, "steps")), start=1):
                label = scalar(get(step, "name")) or scalar(get(step, "id")) or f"#{index}"
                where = f"{job_name} step {label}"
                result.definitions += _env(file.rel, get(step, "env"), environment, where)
    return result


def _job_environment(job: Node | None) -> str:
    node = get(job, "environment")
    name = scalar(node) or scalar(get(node, "name"))
    if name is None or "${{" in name:
        return DEFAULT_ENVIRONMENT
    return name


def _env(rel: str, node: Node | None, environment: str, context: str) -> list[Definition]:
    return [
        Definition(
            name=str(key.value),
            path=rel,
            line=line(key),
            source=Source.GITHUB_ACTIONS,
            environment=environment,
            kind=value_kind(scalar(value)),
            value=scalar(value),
            context=context,
        )
        for key, value in pairs(node)
    ]
