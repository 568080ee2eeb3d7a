from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

import httpx2
import pytest
from anthropic import AsyncAnthropic
from durable_core import (
    DurableUsageError,
    SdkRetriesWarning,
    anthropic_provider_without_retries,
    google_provider_without_retries,
    openai_provider_without_retries,
    sdk_retry_report,
    warn_if_model_retries,
    without_sdk_retries,
)
from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer
from google.genai.types import HttpRetryOptions
from pydantic_ai import Agent
from pydantic_ai.direct import model_request
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.models.instrumented import InstrumentedModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.google import GoogleProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.retries import AsyncHTTPX2TenacityTransport, RetryConfig
from pydantic_ai.settings import ModelSettings
from tenacity import stop_after_attempt

# Nothing listens here: building clients and models sends no request.
UNUSED_URL = 'http://127.0.0.1:9'


def openai_model(provider: OpenAIProvider | None = None, settings: ModelSettings | None = None) -> OpenAIChatModel:
    provider = provider or OpenAIProvider(base_url=f'{UNUSED_URL}/v1', api_key='fake-key')
    return OpenAIChatModel('gpt-4o', provider=provider, settings=settings)


def anthropic_model(provider: AnthropicProvider | None = None) -> AnthropicModel:
    return AnthropicModel(
        'claude-sonnet-4-6', provider=provider or AnthropicProvider(api_key='fake', base_url=UNUSED_URL)
    )


def google_model(provider: GoogleProvider) -> GoogleModel:
    return GoogleModel('gemini-3.5-flash-lite', provider=provider)


def retrying_google_provider(base_url: str = UNUSED_URL) -> GoogleProvider:
    # Near-zero waits, so the end-to-end test spends no time sleeping between Google's attempts.
    options = HttpRetryOptions(attempts=3, initial_delay=0.001, max_delay=0.001, jitter=0)
    return GoogleProvider(api_key='fake', base_url=base_url, retry_options=options)


def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    raise AssertionError('not called')


def retrying_http_client() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=AsyncHTTPX2TenacityTransport(RetryConfig(stop=stop_after_attempt(3))))


# --- constructor helpers: the real SDK clients ---


def test_default_providers_do_retry() -> None:
    """The baseline the helpers change: PydanticAI's providers build SDK clients that retry."""
    assert OpenAIProvider(base_url=UNUSED_URL, api_key='fake').client.max_retries == 2
    assert AnthropicProvider(api_key='fake', base_url=UNUSED_URL).client.max_retries == 2


def test_openai_provider_without_retries_has_a_client_that_makes_one_attempt() -> None:
    provider = openai_provider_without_retries(base_url=f'{UNUSED_URL}/v1', api_key='fake-key')

    assert isinstance(provider, OpenAIProvider)
    assert provider.client.max_retries == 0
    assert provider.client.api_key == 'fake-key'
    assert provider.base_url == f'{UNUSED_URL}/v1/'
    assert sdk_retry_report(openai_model(provider)) == []


def test_anthropic_provider_without_retries_has_a_client_that_makes_one_attempt() -> None:
    provider = anthropic_provider_without_retries(api_key='fake-key', base_url=UNUSED_URL)

    assert isinstance(provider, AnthropicProvider)
    assert isinstance(provider.client, AsyncAnthropic)
    assert provider.client.max_retries == 0
    assert provider.client.api_key == 'fake-key'
    assert sdk_retry_report(anthropic_model(provider)) == []


def test_google_provider_without_retries_has_a_client_that_makes_one_attempt() -> None:
    provider = google_provider_without_retries(api_key='fake-key', base_url=UNUSED_URL)

    assert isinstance(provider, GoogleProvider)
    retry_options = provider.client._api_client._http_options.retry_options  # pyright: ignore[reportPrivateUsage]
    assert retry_options is not None
    assert retry_options.attempts == 1
    assert sdk_retry_report(google_model(provider)) == []


def test_constructor_helpers_refuse_an_http_client_with_a_retrying_transport() -> None:
    for build in (openai_provider_without_retries, anthropic_provider_without_retries, google_provider_without_retries):
        with pytest.raises(DurableUsageError, match='AsyncHTTPX2TenacityTransport'):
            build(api_key='fake', base_url=UNUSED_URL, http_client=retrying_http_client())


def test_constructor_helpers_say_what_to_install_when_the_sdk_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'pydantic_ai.providers.openai', None)
    monkeypatch.setitem(sys.modules, 'pydantic_ai.providers.anthropic', None)
    monkeypatch.setitem(sys.modules, 'google.genai.types', None)

    with pytest.raises(ImportError, match=r'pip install "pydantic-ai-slim\[openai\]"'):
        openai_provider_without_retries(api_key='fake')
    with pytest.raises(ImportError, match=r'pip install "pydantic-ai-slim\[anthropic\]"'):
        anthropic_provider_without_retries(api_key='fake')
    with pytest.raises(ImportError, match=r'pip install "pydantic-ai-slim\[google\]"'):
        google_provider_without_retries(api_key='fake')


# --- without_sdk_retries ---


def test_without_sdk_retries_rebuilds_an_openai_model_on_the_same_provider() -> None:
    original = openai_model(settings=ModelSettings(temperature=0.5))

    model = without_sdk_retries(original)

    assert type(model) is OpenAIChatModel
    assert model is not original
    assert model.settings == {'temperature': 0.5, 'max_retries': 0}
    assert model.provider is original.provider
    assert (model.model_name, model.profile) == (original.model_name, original.profile)
    assert original.settings == {'temperature': 0.5}  # the original is left as it was
    assert sdk_retry_report(original) != []
    assert sdk_retry_report(model) == []


@pytest.mark.parametrize(
    'build',
    [
        lambda: OpenAIResponsesModel('gpt-4o', provider=OpenAIProvider(base_url=UNUSED_URL, api_key='fake')),
        anthropic_model,
        lambda: google_model(retrying_google_provider()),
    ],
    ids=['openai-responses', 'anthropic', 'google'],
)
def test_without_sdk_retries_handles_each_sdk(build: Callable[[], Model]) -> None:
    original = build()
    assert sdk_retry_report(original) != []

    model = without_sdk_retries(original)

    assert type(model) is type(original)
    assert model.settings == {'max_retries': 0}
    assert sdk_retry_report(model) == []


def test_without_sdk_retries_accepts_a_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('OPENAI_API_KEY', 'fake-key')

    model = without_sdk_retries('openai:gpt-4o')

    assert model.settings == {'max_retries': 0}
    assert sdk_retry_report(model) == []


def test_without_sdk_retries_leaves_models_that_make_no_retries_as_they_are() -> None:
    function_model = FunctionModel(answer)
    test_model = TestModel()
    already_single_attempt = openai_model(openai_provider_without_retries(base_url=UNUSED_URL, api_key='fake'))
    single_attempt_by_setting = openai_model(settings=ModelSettings(max_retries=0))

    for model in (function_model, test_model, already_single_attempt, single_attempt_by_setting):
        assert without_sdk_retries(model) is model


def test_without_sdk_retries_goes_through_wrappers_and_fallbacks() -> None:
    function_model = FunctionModel(answer)
    instrumented = InstrumentedModel(openai_model())
    fallback = FallbackModel(instrumented, anthropic_model(), function_model)
    assert len(sdk_retry_report(fallback)) == 2

    model = without_sdk_retries(fallback)

    assert isinstance(model, FallbackModel)
    assert model is not fallback
    new_instrumented, new_anthropic, same_function_model = model.models
    assert isinstance(new_instrumented, InstrumentedModel)
    assert new_instrumented.instrumentation_settings is instrumented.instrumentation_settings
    assert new_instrumented.wrapped.settings == {'max_retries': 0}
    assert new_anthropic.settings == {'max_retries': 0}
    assert same_function_model is function_model
    assert fallback.models[0] is instrumented  # the original fallback keeps its models
    assert sdk_retry_report(model) == []


def test_without_sdk_retries_refuses_a_retrying_transport_it_cannot_take_out() -> None:
    provider = OpenAIProvider(base_url=UNUSED_URL, api_key='fake', http_client=retrying_http_client())

    with pytest.raises(DurableUsageError, match='AsyncHTTPX2TenacityTransport'):
        without_sdk_retries(openai_model(provider))


def test_without_sdk_retries_refuses_a_model_class_that_ignores_max_retries() -> None:
    class IgnoresMaxRetries(OpenAIChatModel):
        unsupported_settings = frozenset({'max_retries'})

    provider = OpenAIProvider(base_url=UNUSED_URL, api_key='fake')
    model = IgnoresMaxRetries('gpt-4o', provider=provider, settings=ModelSettings(max_retries=0))

    # The setting is ignored, so the client's own two retries still count.
    assert sdk_retry_report(model) != []
    with pytest.raises(DurableUsageError, match='ignores the `max_retries` setting'):
        without_sdk_retries(model)


# --- sdk_retry_report and warn_if_model_retries ---


def test_report_names_the_model_the_client_and_the_number_of_retries() -> None:
    [line] = sdk_retry_report(openai_model())

    assert line.startswith("OpenAIChatModel 'gpt-4o': its AsyncOpenAI client retries a failed request up to 2 times")
    assert 'without_sdk_retries' in line


def test_report_counts_google_retry_options() -> None:
    [line] = sdk_retry_report(google_model(retrying_google_provider()))

    assert "GoogleModel 'gemini-3.5-flash-lite'" in line
    assert 'up to 2 times' in line
    # Google's client makes one attempt unless given retry options.
    assert sdk_retry_report(google_model(GoogleProvider(api_key='fake', base_url=UNUSED_URL))) == []


def test_report_layers_the_agent_settings_over_the_model_settings() -> None:
    model = without_sdk_retries(openai_model())

    [line] = sdk_retry_report(model, ModelSettings(max_retries=3))
    assert 'up to 3 times' in line
    assert sdk_retry_report(openai_model(), ModelSettings(max_retries=0)) == []


def test_report_finds_a_retrying_transport_even_in_a_mount() -> None:
    mounted = httpx2.AsyncClient(mounts={'http://': AsyncHTTPX2TenacityTransport(RetryConfig())})
    provider = openai_provider_without_retries(base_url=UNUSED_URL, api_key='fake')
    direct = OpenAIProvider(base_url=UNUSED_URL, api_key='fake', http_client=retrying_http_client())

    mounted_provider = OpenAIProvider(base_url=UNUSED_URL, api_key='fake', http_client=mounted)

    # With the SDK's own retries off by setting, only the transport is left to report.
    [mounted_line] = sdk_retry_report(openai_model(mounted_provider, ModelSettings(max_retries=0)))
    direct_lines = sdk_retry_report(openai_model(direct))

    assert sdk_retry_report(openai_model(provider)) == []
    assert 'AsyncHTTPX2TenacityTransport' in mounted_line
    assert len(direct_lines) == 2  # the SDK's own retries and the transport's
    assert 'AsyncHTTPX2TenacityTransport' in direct_lines[1]


def test_warning_fires_for_a_retrying_model_in_a_fallback_and_points_at_the_caller() -> None:
    model = FallbackModel(FunctionModel(answer), InstrumentedModel(anthropic_model()))

    with pytest.warns(SdkRetriesWarning, match="AnthropicModel 'claude-sonnet-4-6'") as caught:
        report = warn_if_model_retries(model)

    assert len(report) == 1
    assert caught[0].filename == __file__
    assert issubclass(SdkRetriesWarning, UserWarning)


@pytest.mark.parametrize(
    'build',
    [
        lambda: FunctionModel(answer),
        TestModel,
        lambda: FallbackModel(TestModel(), InstrumentedModel(FunctionModel(answer))),
        lambda: without_sdk_retries(FallbackModel(openai_model(), anthropic_model())),
    ],
    ids=['function', 'test', 'nested-unknown', 'fixed'],
)
def test_no_warning_for_models_that_do_not_retry_on_their_own(build: Callable[[], Model]) -> None:
    model = build()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert warn_if_model_retries(model) == []


# --- end to end, against the local OpenAI-compatible server ---


async def test_sdk_retries_send_a_failed_request_again_and_without_them_it_fails_once() -> None:
    faults = FaultPlan(at_calls={1: FaultKind.SERVER_ERROR})
    with OpenAICompatibleServer(['answer'], faults=faults) as server:
        retrying = openai_model(OpenAIProvider(base_url=server.base_url, api_key='test-key'))
        result = await Agent(retrying).run('Hi')
    assert result.output == 'answer'
    assert (server.calls.total, server.calls.fault_count(FaultKind.SERVER_ERROR)) == (2, 1)

    with OpenAICompatibleServer(['answer'], faults=faults) as server:
        single_attempt = without_sdk_retries(openai_model(OpenAIProvider(base_url=server.base_url, api_key='test-key')))
        with pytest.raises(ModelHTTPError) as raised:
            await Agent(single_attempt).run('Hi')
    assert raised.value.status_code == 500
    assert (server.calls.total, server.calls.succeeded) == (1, 0)


async def test_openai_provider_without_retries_fails_once() -> None:
    with OpenAICompatibleServer(['answer'], faults=FaultPlan(at_calls={1: FaultKind.RATE_LIMIT})) as server:
        model = openai_model(openai_provider_without_retries(base_url=server.base_url, api_key='test-key'))
        with pytest.raises(ModelHTTPError) as raised:
            await Agent(model).run('Hi')

    assert raised.value.status_code == 429
    assert server.calls.total == 1


@pytest.mark.parametrize('sdk', ['anthropic', 'google'])
async def test_other_sdks_retry_a_server_error_and_make_one_attempt_without_retries(sdk: str) -> None:
    def build(base_url: str, *, retries: bool) -> Model:
        if sdk == 'anthropic':
            if retries:
                return anthropic_model(AnthropicProvider(api_key='fake', base_url=base_url))
            return anthropic_model(anthropic_provider_without_retries(api_key='fake', base_url=base_url))
        if retries:
            return google_model(retrying_google_provider(base_url))
        return google_model(google_provider_without_retries(api_key='fake', base_url=base_url))

    # Every request fails, whatever its path: the server speaks only OpenAI's API, but fails any.
    failing = FaultPlan(rate=1.0, kinds=[FaultKind.SERVER_ERROR])
    messages = [ModelRequest.user_text_prompt('Hi')]
    attempts: dict[str, int] = {}
    model_builders: dict[str, Callable[[str], Model]] = {
        'sdk retries': lambda url: build(url, retries=True),
        'provider without retries': lambda url: build(url, retries=False),
        'without_sdk_retries': lambda url: without_sdk_retries(build(url, retries=True)),
    }
    for label, model_for in model_builders.items():
        with OpenAICompatibleServer(faults=failing) as server:
            with pytest.raises(ModelHTTPError) as raised:
                await model_request(model_for(server.base_url.removesuffix('/v1')), messages)
            assert raised.value.status_code == 500
            attempts[label] = server.calls.total

    assert attempts == {'sdk retries': 3, 'provider without retries': 1, 'without_sdk_retries': 1}
