"""Turn off the retries a provider SDK makes on its own, and find the models that still make them.

A durable engine retries a failed model request itself, by its `StepPolicy`. The OpenAI and Anthropic SDKs
retry each request twice more by default, a Google client built with `retry_options` retries too, and an HTTP
client with a retrying transport (such as `pydantic_ai.retries.AsyncHTTPX2TenacityTransport`) retries below
both. These multiply: three engine attempts of a request the SDK tries three times reach the provider nine
times, and none of the SDK's attempts are journaled.

`without_sdk_retries` and the `*_provider_without_retries` constructors turn the SDK's retries off;
`sdk_retry_report` and `warn_if_model_retries` find the ones left on.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from pydantic_ai.models import KnownModelName, Model, infer_model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings

from ._errors import DurableUsageError

if TYPE_CHECKING:
    import httpx2
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.google import GoogleProvider
    from pydantic_ai.providers.openai import OpenAIProvider

__all__ = [
    'SdkRetriesWarning',
    'anthropic_provider_without_retries',
    'google_provider_without_retries',
    'openai_provider_without_retries',
    'sdk_retry_report',
    'warn_if_model_retries',
    'without_sdk_retries',
]

_GOOGLE_DEFAULT_ATTEMPTS = 5
"""The attempts google-genai makes when `HttpRetryOptions` leaves `attempts` unset."""


class SdkRetriesWarning(UserWarning):
    """A model handed to a durable agent retries failed requests on its own, beneath the engine's retries."""


def without_sdk_retries(model: Model | KnownModelName | str) -> Model:
    """An equivalent model whose provider SDK makes one attempt per request, leaving retries to the engine.

    A model whose SDK retries gets `max_retries=0` in its settings: PydanticAI then sends each request through a
    copy of the SDK client with `max_retries=0` (for Google, `retry_options` with a single attempt). The model's
    provider, and so its HTTP client and connection pool, is shared with the original, not rebuilt.
    `WrapperModel`s and `FallbackModel`s are copied around their changed models. A model that makes no retries of
    its own, or whose SDK this doesn't know (such as `FunctionModel` or `TestModel`), is returned as it is.

    Example:
        ```python
        from durable_core import sdk_retry_report, without_sdk_retries
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        # The OpenAI SDK's settings are the point, so the model is OpenAI's; no request is sent: a placeholder key does.
        model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(api_key='sk-...'))
        print(sdk_retry_report(model))  # one line: the OpenAI client retries up to 2 times
        model = without_sdk_retries(model)  # the same model and provider, with max_retries=0 in its settings
        assert sdk_retry_report(model) == []
        ```

    Args:
        model: The model, or a model name such as `'openai:gpt-4o'`.

    Returns:
        The model to use in place of `model`.

    Raises:
        DurableUsageError: When a retry can't be turned off here: the HTTP client has a retrying transport, or the
            model class ignores the `max_retries` setting.
    """
    if isinstance(model, str):
        model = infer_model(model)
    if isinstance(model, FallbackModel):
        models = [without_sdk_retries(inner) for inner in model.models]
        if all(new is old for new, old in zip(models, model.models, strict=True)):
            return model
        fallback = copy.copy(model)
        fallback.models = models
        return fallback
    if isinstance(model, WrapperModel):
        wrapped = without_sdk_retries(model.wrapped)
        if wrapped is model.wrapped:
            return model
        wrapper = copy.copy(model)
        wrapper.wrapped = wrapped
        return wrapper
    return _leaf_without_sdk_retries(model)


def sdk_retry_report(model: Model, model_settings: ModelSettings | None = None) -> list[str]:
    """Why `model` still retries failed requests on its own, one line per cause; empty when it doesn't.

    Looks through `WrapperModel`s and `FallbackModel`s to every model that sends requests. A model whose SDK this
    doesn't know (such as `FunctionModel` or `TestModel`) reports nothing.

    Args:
        model: The model a durable agent will use.
        model_settings: Settings that the agent or run layers over the model's own, if known, since a
            `max_retries` there overrides the model's.

    Returns:
        One line per cause, naming the model and the fix.
    """
    report: list[str] = []
    for leaf in _request_models(model):
        provider = leaf.provider
        if provider is None:
            continue
        client: object = provider.client
        label = f'{type(leaf).__name__} {leaf.model_name!r}'
        retries = _effective_sdk_retries(leaf, client, model_settings)
        if retries:
            report.append(
                f'{label}: its {type(client).__name__} client retries a failed request up to {retries} times. '
                'Use `without_sdk_retries(model)` or set `max_retries=0` in its settings.'
            )
        for transport in _retrying_transports(client):
            report.append(
                f'{label}: its HTTP client retries requests through a {type(transport).__name__}. '
                'Give the provider an HTTP client without a retrying transport.'
            )
    return report


def warn_if_model_retries(
    model: Model, model_settings: ModelSettings | None = None, *, stacklevel: int = 1
) -> list[str]:
    """Warn with an `SdkRetriesWarning` when `model` still retries failed requests on its own.

    Args:
        model: The model a durable agent will use.
        model_settings: Settings that the agent or run layers over the model's own, if known.
        stacklevel: Which frame the warning points at: 1 for the code that calls this function, 2 for its caller,
            and so on.

    Returns:
        The lines of `sdk_retry_report`, empty when nothing was warned about.
    """
    report = sdk_retry_report(model, model_settings)
    if report:
        lines = '\n'.join(f'- {line}' for line in report)
        warnings.warn(
            "A durable agent's model retries on its own, so each engine retry can reach the provider several times "
            f'and the extra attempts are not journaled:\n{lines}',
            SdkRetriesWarning,
            stacklevel=stacklevel + 1,
        )
    return report


def openai_provider_without_retries(
    *, base_url: str | None = None, api_key: str | None = None, http_client: httpx2.AsyncClient | None = None
) -> OpenAIProvider:
    """An `OpenAIProvider` whose OpenAI client makes one attempt per request (`max_retries=0`).

    Args:
        base_url: As for `OpenAIProvider`: the API's URL, by default `OPENAI_BASE_URL` or OpenAI's.
        api_key: As for `OpenAIProvider`: the key, by default `OPENAI_API_KEY`.
        http_client: As for `OpenAIProvider`; it must not have a retrying transport.

    Raises:
        ImportError: When the `openai` package isn't installed.
        DurableUsageError: When `http_client` has a retrying transport.
    """
    try:
        from pydantic_ai.providers.openai import OpenAIProvider
    except ImportError as error:
        raise ImportError(
            '`openai_provider_without_retries` needs the OpenAI SDK: `pip install "pydantic-ai-slim[openai]"`'
        ) from error
    _reject_retrying_http_client(http_client)
    provider = OpenAIProvider(base_url=base_url, api_key=api_key, http_client=http_client)
    # Set on the client the provider just built and holds alone, rather than building one to hand it: the provider
    # then keeps owning its HTTP client, and replaces it when a run moves to another event loop.
    provider.client.max_retries = 0
    return provider


def anthropic_provider_without_retries(
    *, api_key: str | None = None, base_url: str | None = None, http_client: httpx2.AsyncClient | None = None
) -> AnthropicProvider:
    """An `AnthropicProvider` whose Anthropic client makes one attempt per request (`max_retries=0`).

    Args:
        api_key: As for `AnthropicProvider`: the key, by default `ANTHROPIC_API_KEY`.
        base_url: As for `AnthropicProvider`: the API's URL.
        http_client: As for `AnthropicProvider`; it must not have a retrying transport.

    Raises:
        ImportError: When the `anthropic` package isn't installed.
        DurableUsageError: When `http_client` has a retrying transport.
    """
    try:
        from pydantic_ai.providers.anthropic import AnthropicProvider
    except ImportError as error:
        raise ImportError(
            '`anthropic_provider_without_retries` needs the Anthropic SDK: `pip install "pydantic-ai-slim[anthropic]"`'
        ) from error
    _reject_retrying_http_client(http_client)
    provider = AnthropicProvider(api_key=api_key, base_url=base_url, http_client=http_client)
    provider.client.max_retries = 0  # on the provider's own client, for the reason given for OpenAI
    return provider


def google_provider_without_retries(
    *, api_key: str | None = None, base_url: str | None = None, http_client: httpx2.AsyncClient | None = None
) -> GoogleProvider:
    """A `GoogleProvider` for the Gemini API whose client makes one attempt per request.

    Args:
        api_key: As for `GoogleProvider`: the key, by default `GOOGLE_API_KEY`.
        base_url: As for `GoogleProvider`: the API's URL.
        http_client: As for `GoogleProvider`; it must not have a retrying transport.

    Raises:
        ImportError: When the `google-genai` package isn't installed.
        DurableUsageError: When `http_client` has a retrying transport.
    """
    try:
        from google.genai.types import HttpRetryOptions
        from pydantic_ai.providers.google import GoogleProvider
    except ImportError as error:
        raise ImportError(
            '`google_provider_without_retries` needs the Google GenAI SDK: `pip install "pydantic-ai-slim[google]"`'
        ) from error
    _reject_retrying_http_client(http_client)
    return GoogleProvider(
        api_key=api_key, base_url=base_url, http_client=http_client, retry_options=HttpRetryOptions(attempts=1)
    )


def _request_models(model: Model) -> Iterator[Model]:
    """The models inside `model` that send requests themselves, through wrappers and fallbacks."""
    if isinstance(model, FallbackModel):
        for inner in model.models:
            yield from _request_models(inner)
    elif isinstance(model, WrapperModel):
        yield from _request_models(model.wrapped)
    else:
        yield model


def _leaf_without_sdk_retries(model: Model) -> Model:
    provider = model.provider
    if provider is None:
        return model
    client: object = provider.client
    label = f'{type(model).__name__} {model.model_name!r}'
    if transports := _retrying_transports(client):
        raise DurableUsageError(
            f'{label}: its HTTP client retries requests through a {type(transports[0]).__name__}, which '
            '`without_sdk_retries` cannot take out. Give the provider an HTTP client without it.'
        )
    if not _effective_sdk_retries(model, client, None):
        return model
    if 'max_retries' in type(model).unsupported_settings:
        raise DurableUsageError(
            f'{label} ignores the `max_retries` setting: build its provider with a client that makes no retries.'
        )
    settings = merge_model_settings(model.settings, ModelSettings(max_retries=0))
    # The model classes that take `max_retries` share this constructor shape.
    rebuild = cast(Callable[..., Model], type(model))
    try:
        return rebuild(model.model_name, provider=provider, profile=model.profile, settings=settings)
    except TypeError as error:
        raise DurableUsageError(
            f'{label}: `without_sdk_retries` cannot rebuild a {type(model).__name__}; '
            "pass `settings={'max_retries': 0}` where you build it."
        ) from error


def _effective_sdk_retries(model: Model, client: object, model_settings: ModelSettings | None) -> int | None:
    """How many times the SDK retries a failed request of `model`; `None` for an SDK this doesn't know."""
    client_retries = _client_retries(client)
    if client_retries is None:
        return None
    settings = merge_model_settings(model.settings, model_settings) or {}
    setting = settings.get('max_retries')
    if setting is not None and 'max_retries' not in type(model).unsupported_settings:
        return setting
    return client_retries


def _client_retries(client: object) -> int | None:
    """The retries an SDK client makes per failed request; `None` for a client this doesn't know."""
    # OpenAI, Anthropic, Groq and the other Stainless-generated SDKs keep a public `max_retries`.
    max_retries = getattr(client, 'max_retries', None)
    if isinstance(max_retries, int) and not isinstance(max_retries, bool):
        return max_retries
    if type(client).__module__.startswith('google.genai'):
        # google-genai keeps its options on a private API client: read them defensively, so a change there loses
        # this check instead of breaking it.
        http_options = getattr(getattr(client, '_api_client', None), '_http_options', None)
        if http_options is None:
            return None
        retry_options = getattr(http_options, 'retry_options', None)
        if retry_options is None:
            return 0  # without retry options, google-genai makes one attempt
        attempts = getattr(retry_options, 'attempts', None)
        return max((_GOOGLE_DEFAULT_ATTEMPTS if attempts is None else attempts) - 1, 0)
    return None


def _retrying_transports(client: object) -> list[object]:
    """The retrying transports of the HTTP client that an SDK client sends requests with."""
    # The SDKs expose no public accessor for their HTTP client, nor httpx for its transports: read them
    # defensively, so a change there loses this check instead of breaking it.
    http_client = getattr(client, '_client', None)
    if http_client is None:
        http_client = getattr(getattr(client, '_api_client', None), '_async_httpx_client', None)
    return _retrying_transports_of_http_client(http_client)


def _retrying_transports_of_http_client(http_client: object) -> list[object]:
    retrying_types = _retrying_transport_types()
    if http_client is None or not retrying_types:
        return []
    mounts: Any = getattr(http_client, '_mounts', None) or {}
    roots: list[object] = [getattr(http_client, '_transport', None), *cast(dict[Any, object], mounts).values()]
    found: list[object] = []
    for root in roots:
        transport = root
        seen: set[int] = set()
        # A retrying transport may sit anywhere in a chain of transports that wrap the next one in `.wrapped`.
        while transport is not None and id(transport) not in seen:
            seen.add(id(transport))
            if isinstance(transport, retrying_types) and not any(transport is known for known in found):
                found.append(transport)
            transport = getattr(transport, 'wrapped', None)
    return found


def _reject_retrying_http_client(http_client: object) -> None:
    if transports := _retrying_transports_of_http_client(http_client):
        raise DurableUsageError(
            f'The http_client retries requests through a {type(transports[0]).__name__}: give the provider an HTTP '
            'client without a retrying transport, and let the durable engine retry.'
        )


@functools.cache
def _retrying_transport_types() -> tuple[type, ...]:
    try:
        from pydantic_ai import retries
    except ImportError:  # without tenacity, none of these transports can exist
        return ()
    return (
        retries.AsyncHTTPX2TenacityTransport,
        retries.HTTPX2TenacityTransport,
        retries.AsyncTenacityTransport,
        retries.TenacityTransport,
    )
