"""Smoke tests of Azure endpoints with :func:`pipelines.smoke.smoke_test` (the local one).

Azure ML routes a request to one deployment when it carries ``azureml-model-deployment``;
``smoke_test`` takes no extra headers, so they ride on a wrapping httpx transport.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import httpx

from pipelines.azure.refs import Sample
from pipelines.smoke import SmokeResult, smoke_test

DEPLOYMENT_HEADER = "azureml-model-deployment"


class HeaderTransport(httpx.BaseTransport):
    """Adds fixed headers to every request, then hands it to ``inner``."""

    def __init__(self, headers: Mapping[str, str], inner: httpx.BaseTransport) -> None:
        self.headers = dict(headers)
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for key, value in self.headers.items():
            request.headers[key] = value
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def smoke_endpoint(
    url: str,
    sample: Sample,
    *,
    api_key: str | None,
    deployment: str | None = None,
    timeout_s: float = 120,
    verify: bool | str | ssl.SSLContext = True,
    transport: httpx.BaseTransport | None = None,
) -> SmokeResult:
    """POST the sample rows to ``url`` (one deployment only, when ``deployment`` is given) and
    compare the predictions, and a classifier's probabilities, with the offline ones."""
    inner = transport if transport is not None else httpx.HTTPTransport(verify=verify)
    wrapped = HeaderTransport({DEPLOYMENT_HEADER: deployment}, inner) if deployment else inner
    return smoke_test(
        url,
        sample.rows,
        sample.expected,
        api_key=api_key,
        timeout_s=timeout_s,
        transport=wrapped,
        probabilities=sample.probabilities,
    )
