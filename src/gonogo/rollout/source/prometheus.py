"""The ``prometheus`` metric source: per-variant totals from PromQL templates.

Each template is an instant query with ``{version}`` and ``{variant}`` placeholders,
filled with the version a variant runs (escaped for a double-quoted PromQL string) and
its name (``baseline``/``canary``). The defaults match the bundled sample service:

* ``requests``: ``sum(sample_requests_total{version="{version}"})``
* ``errors``: the same with ``code=~"5.."``
* ``latency_buckets``: ``sum by (le) (sample_request_duration_seconds_bucket{...})``

Queries return *cumulative* counters, never rates: the controller takes differences
between snapshots. All queries of one snapshot are evaluated at the same instant, so
errors never outrun requests because a scrape landed between two queries. An empty
result is 0 (no traffic yet), not an error. Extra numeric metrics come as ``sum`` and
``count`` (and optionally ``sum_sq``) queries giving :class:`Moments`.

Latency buckets: Prometheus counts a request in the bucket ``(le_prev, le]``; gonogo
puts that count in its own 1% bucket holding ``le``, the *upper* edge. A quantile read
from the result is therefore the upper edge of the Prometheus bucket it falls in (never
understated), off by up to that bucket's width (with the sample service's buckets, a
21 ms request reads as 25 ms) plus gonogo's 1%. Requests above the largest finite
``le`` land in gonogo's overflow bucket (read as ten minutes). Both variants lose the
same precision, so comparisons stay fair, but differences smaller than a Prometheus
bucket are invisible: choose buckets around the latencies that matter.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Self

import httpx
import yaml
from pydantic import Field, field_validator, model_validator

from gonogo.clock import MAX_WAIT_S
from gonogo.config.runtime import parse_duration
from gonogo.errors import one_line
from gonogo.rollout.analysis.histogram import NUM_BUCKETS, LatencyHistogram, bucket_of
from gonogo.rollout.analysis.interface import Moments, VariantSample
from gonogo.rollout.deploy.interface import Backend, Variant
from gonogo.rollout.errors import SourceError
from gonogo.rollout.source.interface import Snapshot
from gonogo.security.httpclient import redact_url
from gonogo.strict import StrictModel

__all__ = [
    "PrometheusMetricQueries",
    "PrometheusQueries",
    "PrometheusSource",
    "PrometheusSourceConfig",
    "histogram_from_buckets",
]

PLACEHOLDERS = ("version", "variant")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUERY_HINT = "check the PromQL under [rollout.source]"
_API_HINT = "check that [rollout.source] url is Prometheus' address (its /api/v1/query answers)"


def _check_template(template: str) -> str:
    if not template.strip():
        raise ValueError("the query is empty")
    for name in _PLACEHOLDER.findall(template):
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} (use {{version}} or {{variant}})")
    return template


class PrometheusQueries(StrictModel):
    """The three standard queries, as templates."""

    requests: str = 'sum(sample_requests_total{version="{version}"})'
    errors: str = 'sum(sample_requests_total{version="{version}",code=~"5.."})'
    latency_buckets: str | None = (
        'sum by (le) (sample_request_duration_seconds_bucket{version="{version}"})'
    )
    """cumulative bucket counters by ``le``; empty string or absent: no latency"""

    @field_validator("requests", "errors")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value)

    @field_validator("latency_buckets")
    @classmethod
    def _optional_template(cls, value: str | None) -> str | None:
        return _check_template(value) if value else None


class PrometheusMetricQueries(StrictModel):
    """One extra numeric metric: the sum and count of its values (and of their squares).

    Without ``sum_sq`` the variance is unknown: guardrails and means still work, but the
    sequential judge cannot test the metric.
    """

    sum: str
    count: str
    sum_sq: str | None = None

    @field_validator("sum", "count", "sum_sq")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return _check_template(value) if value is not None else None


class PrometheusSourceConfig(StrictModel):
    """``[rollout.source]`` with ``type = "prometheus"``."""

    type: Literal["prometheus"] = "prometheus"
    url: str
    """Prometheus' base address, e.g. http://prometheus:9090 (the API is under /api/v1)"""
    queries: PrometheusQueries = PrometheusQueries()
    metrics: dict[str, PrometheusMetricQueries] = Field(default_factory=dict)
    """extra numeric metrics by name (the name a ``mean`` metric or guardrail uses)"""
    latency_unit: Literal["s", "ms"] = "s"
    """the unit of the ``le`` labels"""
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_WAIT_S)
    scrape_interval_s: float | None = Field(default=None, ge=0, le=3600)
    """the scrape interval of the jobs the queries read: each variant's counters are as of
    its own last scrape, so one may trail the other by this much. None (the default): the
    longest scrape interval in the server's configuration, or Prometheus' own default of
    60 s when the server does not say (see :meth:`PrometheusSource.lag_s`)"""
    headers: dict[str, str] = Field(default_factory=dict)
    """extra request headers (e.g. X-Scope-OrgID); no credentials: see bearer_token_env"""
    bearer_token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """the environment variable holding a bearer token (the token never appears in output)"""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("url must be an http(s) address, e.g. http://127.0.0.1:9090")
        if "?" in value or "#" in value:
            # the API path is appended to it: a query would swallow it (and may hold a secret)
            raise ValueError(
                "url must not have a query or fragment (the API path is appended to it); "
                "put a token in bearer_token_env"
            )
        return value.rstrip("/")

    @field_validator("metrics")
    @classmethod
    def _names(cls, value: dict[str, PrometheusMetricQueries]) -> dict[str, Any]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_.-]*$", name):
                raise ValueError(f"metric name {name!r} must look like cpu_per_request")
        return value

    @model_validator(mode="after")
    def _no_credentials_in_headers(self) -> Self:
        for name in self.headers:
            if name.lower() in {"authorization", "proxy-authorization", "cookie"}:
                raise ValueError(
                    f"header {name} would put a credential in the policy; "
                    "use bearer_token_env instead"
                )
        return self


class PrometheusSource:
    """Reads per-variant totals from Prometheus' HTTP API; see the module docstring."""

    name: ClassVar[str] = "prometheus"

    def __init__(
        self,
        config: PrometheusSourceConfig,
        *,
        environ: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._lag_s = config.scrape_interval_s
        self._where = redact_url(config.url)
        self._monotonic = monotonic
        headers = dict(config.headers)
        if config.bearer_token_env:
            token = (os.environ if environ is None else environ).get(config.bearer_token_env)
            if not token:
                raise SourceError(
                    f"environment variable {config.bearer_token_env} is not set",
                    hint="bearer_token_env names the variable holding the Prometheus token",
                )
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=config.timeout_s, headers=headers)
        self._backends: dict[Variant, Backend] = {}

    @property
    def lag_s(self) -> float:
        """How long one variant's totals may trail the other's (the judge allows for it):
        ``scrape_interval_s``, or else read once from the server's configuration."""
        if self._lag_s is None:
            self._lag_s = self._server_scrape_interval()
        return self._lag_s

    def _server_scrape_interval(self) -> float:
        """The longest ``scrape_interval`` in the server's configuration (its jobs', the
        global one where a job has none), or Prometheus' default when it does not say
        (a query service without the status API, a proxy that hides it)."""
        try:
            body = self._client.get(f"{self.config.url}/api/v1/status/config").json()
            found = scrape_intervals(yaml.safe_load(body["data"]["yaml"]))
        except (httpx.HTTPError, ValueError, KeyError, TypeError, yaml.YAMLError):
            found = []
        return min(max(found), 3600.0) if found else DEFAULT_SCRAPE_INTERVAL_S

    def bind(self, baseline: Backend, canary: Backend) -> None:
        """Which versions the variants run now (the templates' ``{version}``)."""
        self._backends = {Variant.BASELINE: baseline, Variant.CANARY: canary}

    def snapshot(self) -> Snapshot:
        """Cumulative totals of both variants, every query evaluated at the same instant."""
        if not self._backends:
            raise SourceError("the prometheus source has no variants yet", hint="bind() them first")
        instant = time.time()
        at = self._monotonic()
        totals = {
            variant: self._sample(backend, instant) for variant, backend in self._backends.items()
        }
        return Snapshot(at, totals)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # ----------------------------------------------------------------- one variant

    def _sample(self, backend: Backend, instant: float) -> VariantSample:
        queries = self.config.queries
        requests = self._count("requests", queries.requests, backend, instant)
        errors = self._count("errors", queries.errors, backend, instant)
        if errors > requests:
            raise SourceError(
                f"{backend.variant.value} {backend.version}: {errors} errors but only "
                f"{requests} requests",
                hint="queries.errors must count a subset of what queries.requests counts",
            )
        latency = LatencyHistogram()
        if queries.latency_buckets:
            buckets = self._buckets(queries.latency_buckets, backend, instant)
            unit_ms = 1000.0 if self.config.latency_unit == "s" else 1.0
            latency = histogram_from_buckets(buckets, unit_ms)
        metrics = {}
        for name, spec in self.config.metrics.items():
            key = f"metrics.{name}"
            total_sq = (
                self._value(f"{key}.sum_sq", spec.sum_sq, backend, instant) if spec.sum_sq else 0.0
            )
            metrics[name] = Moments(
                self._count(f"{key}.count", spec.count, backend, instant),
                self._value(f"{key}.sum", spec.sum, backend, instant),
                total_sq,
            )
        return VariantSample(requests, errors, latency, metrics)

    def _count(self, key: str, template: str, backend: Backend, instant: float) -> int:
        value = self._value(key, template, backend, instant)
        if value < 0:
            raise SourceError(f"query {key} returned {value:g}, a negative count", hint=_QUERY_HINT)
        return round(value)

    def _value(self, key: str, template: str, backend: Backend, instant: float) -> float:
        """The sum of every sample the query returns (0 for an empty result)."""
        total = 0.0
        for _, value in self._query(key, template, backend, instant):
            total += value
        return total

    def _buckets(self, template: str, backend: Backend, instant: float) -> dict[float, float]:
        key = "latency_buckets"
        cumulative: dict[float, float] = {}
        for labels, value in self._query(key, template, backend, instant):
            try:
                le = float(labels["le"])
            except (KeyError, ValueError):
                raise SourceError(
                    f"query {key} returned a series without a numeric le label",
                    hint="aggregate the bucket counters with sum by (le) (...)",
                ) from None
            cumulative[le] = cumulative.get(le, 0.0) + value
        return cumulative

    # ----------------------------------------------------------------- the HTTP API

    def _query(
        self, key: str, template: str, backend: Backend, instant: float
    ) -> list[tuple[dict[str, str], float]]:
        promql = render(template, key, backend)
        try:
            response = self._client.get(
                f"{self.config.url}/api/v1/query",
                params={"query": promql, "time": f"{instant:.3f}"},
            )
        except httpx.TimeoutException:
            raise SourceError(
                f"prometheus at {self._where} did not answer within {self.config.timeout_s:g}s"
            ) from None
        except httpx.HTTPError as exc:
            reason = one_line(str(exc)) or type(exc).__name__
            raise SourceError(
                f"prometheus at {self._where} is unreachable: {reason}",
                hint="check [rollout.source] url",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(
                f"query {key}: prometheus at {self._where} answered HTTP {response.status_code} "
                "without a JSON body",
                hint="check [rollout.source] url (and the token, for a 401 or 403)",
            )
        if body.get("status") != "success":
            kind = body.get("errorType", "error")
            raise SourceError(
                f"query {key} failed: {kind}: {one_line(str(body.get('error', '')))}",
                hint=_QUERY_HINT,
            )
        return _samples(key, body.get("data"))


#: Prometheus' own default ``scrape_interval``, for a server that does not say its own
DEFAULT_SCRAPE_INTERVAL_S = 60.0


def _seconds(value: object) -> float | None:
    """A configuration's duration (``15s``, ``1m30s``) in seconds; None if it is none."""
    try:
        return parse_duration(value).total_seconds() if isinstance(value, str) else None
    except ValueError:
        return None


def scrape_intervals(config: object) -> list[float]:
    """Every scrape interval a Prometheus configuration sets, in seconds: each job's, or
    the global one (Prometheus' default when that is unset too) for a job without."""
    if not isinstance(config, dict):
        return []
    settings = config.get("global")
    given = settings.get("scrape_interval") if isinstance(settings, dict) else None
    default = _seconds(given)
    fallback = default if default is not None else DEFAULT_SCRAPE_INTERVAL_S
    jobs = config.get("scrape_configs")
    found = [] if default is None else [default]
    for job in jobs if isinstance(jobs, list) else []:
        own = job.get("scrape_interval") if isinstance(job, dict) else None
        seconds = _seconds(own)
        found.append(seconds if seconds is not None else fallback)
    return found


def render(template: str, key: str, backend: Backend) -> str:
    """Fill a template's placeholders; an unknown one is an error naming the query key."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "version":
            return backend.version.replace("\\", "\\\\").replace('"', '\\"')
        if name == "variant":
            return backend.variant.value
        raise SourceError(
            f"query {key}: unknown placeholder {{{name}}}",
            hint="templates know {version} and {variant}",
        )

    return _PLACEHOLDER.sub(fill, template)


def histogram_from_buckets(cumulative: Mapping[float, float], unit_ms: float) -> LatencyHistogram:
    """Cumulative ``le`` counters (``le`` in units of ``unit_ms`` ms) as a gonogo histogram.

    Each Prometheus bucket's count goes to the gonogo bucket of its upper edge ``le``;
    the ``+Inf`` bucket's to the overflow bucket. Counters that shrink from one ``le``
    to the next (series scraped at different times) contribute nothing.
    """
    counts: dict[int, int] = {}
    below = 0
    for le in sorted(cumulative):
        total = round(cumulative[le])
        count = total - below
        if count <= 0:
            continue
        below = total
        index = NUM_BUCKETS - 1 if math.isinf(le) else bucket_of(le * unit_ms)
        counts[index] = counts.get(index, 0) + count
    return LatencyHistogram(counts)


def _series(key: str, item: object) -> tuple[dict[str, str], Any]:
    """(labels, [timestamp, value]) of one series of a vector, or an error naming the query."""
    labels = item.get("metric", {}) if isinstance(item, dict) else None
    if not isinstance(item, dict) or not isinstance(labels, dict):
        raise SourceError(f"query {key}: unreadable series {_shown(item)}", hint=_API_HINT)
    return {str(k): str(v) for k, v in labels.items()}, item.get("value")


def _shown(value: object) -> str:
    """A value from the answer, shortened for a one-line message."""
    text = one_line(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _samples(key: str, data: object) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of an instant vector or scalar result."""
    if not isinstance(data, dict):
        raise SourceError(f"query {key}: prometheus' answer has no data", hint=_QUERY_HINT)
    kind, result = data.get("resultType"), data.get("result")
    rows: list[tuple[dict[str, str], Any]]
    if kind == "vector" and isinstance(result, list):
        rows = [_series(key, item) for item in result]
    elif kind == "scalar":
        rows = [({}, result)]
    else:
        raise SourceError(
            f"query {key} returned a {one_line(str(kind))[:40]} result; "
            "gonogo needs an instant vector or a scalar",
            hint=_QUERY_HINT,
        )
    samples = []
    for labels, pair in rows:
        # a sample is [timestamp, "value"]; anything else is not Prometheus' API
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise SourceError(f"query {key}: unreadable sample {_shown(pair)}", hint=_API_HINT)
        try:
            value = float(pair[1])
        except (TypeError, ValueError):
            raise SourceError(
                f"query {key}: unreadable sample {_shown(pair)}", hint=_API_HINT
            ) from None
        if math.isnan(value):
            raise SourceError(f"query {key} returned NaN", hint=_QUERY_HINT)
        samples.append((labels, value))
    return samples
