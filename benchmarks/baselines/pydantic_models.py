"""Benchmark baseline: pydantic v2 models mirroring stepwire's run-step model.

This module is not part of stepwire. It restates the schema of
``stepwire._model`` as pydantic ``BaseModel`` classes so that the benchmarks can
compare like with like: the same objects, the same field names and types, the
same tagged unions, parsed straight from JSON bytes with
``PydRunStepPage.model_validate_json(body)`` (or one of the ``*_ADAPTER``
``TypeAdapter`` objects below).

How it maps the stepwire model:

* every model is strict (``ConfigDict(strict=True)`` on a shared base): no
  coercion, e.g. ``"1"`` is not an ``int``; unknown fields are ignored
  (pydantic's default), as stepwire ignores them;
* each stepwire ``Struct`` ``X`` has a twin ``PydX`` with the same fields;
  required fields stay required;
* the tagged unions (``ToolCall``, ``StepDetails``, ``CodeInterpreterOutput``,
  ``ComputerAction``, ``ToolCallDelta``, ``StepDetailsDelta``,
  ``CodeInterpreterOutputDelta``, ``Activity``) are pydantic discriminated
  unions on ``"type"``: each member declares ``type: Literal["..."]``;
* open enumerations (status, step type, error code, ranker) are plain ``str``
  and the ``StrictAs`` spec constraints (metadata sizes, score range) are not
  applied, matching stepwire's default (non-strict) decoding mode;
  ``StringMap`` is ``dict[str, str]``; ``dict[str, Any]`` stays as is.

What differs from stepwire:

* pydantic has no ``UNSET``: a field that defaults to ``UNSET`` in stepwire is
  ``Optional[X] = None`` here, so "absent" and ``null`` both read back as
  ``None`` (a decode -> encode cycle is not lossless);
* there is no unknown-member fallback: a tool call, step details, output,
  action or activity of a type not listed here is a ``ValidationError``
  (stepwire decodes it into an ``Unknown*`` dict);
* models are ordinary (gc-tracked) Python objects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "DELTA_ADAPTER",
    "PAGE_ADAPTER",
    "STEP_ADAPTER",
    "PydRunStep",
    "PydRunStepDelta",
    "PydRunStepDeltaEvent",
    "PydRunStepPage",
]

StringMap = dict[str, str]


class _PydBase(BaseModel):
    """Options shared by every baseline model: strict, unknown fields ignored."""

    model_config = ConfigDict(strict=True)


# --------------------------------------------------------------------------
# Step-level objects
# --------------------------------------------------------------------------


class PydLastError(_PydBase):
    code: str
    message: str


class PydPromptTokenDetails(_PydBase):
    cached_tokens: Optional[int] = None


class PydCompletionTokensDetails(_PydBase):
    reasoning_tokens: Optional[int] = None


class PydUsage(_PydBase):
    completion_tokens: int
    prompt_tokens: int
    total_tokens: int
    prompt_token_details: Optional[PydPromptTokenDetails] = None
    prompt_tokens_details: Optional[PydPromptTokenDetails] = None
    completion_tokens_details: Optional[PydCompletionTokensDetails] = None


# --------------------------------------------------------------------------
# Code interpreter
# --------------------------------------------------------------------------


class PydCodeInterpreterLogOutput(_PydBase):
    type: Literal["logs"]
    logs: str


class PydImageFile(_PydBase):
    file_id: str


class PydCodeInterpreterImageOutput(_PydBase):
    type: Literal["image"]
    image: PydImageFile


PydCodeInterpreterOutput = Annotated[
    Union[PydCodeInterpreterLogOutput, PydCodeInterpreterImageOutput],
    Field(discriminator="type"),
]


class PydCodeInterpreter(_PydBase):
    input: str
    outputs: list[PydCodeInterpreterOutput]


class PydCodeInterpreterToolCall(_PydBase):
    type: Literal["code_interpreter"]
    id: str
    code_interpreter: PydCodeInterpreter


# --------------------------------------------------------------------------
# File search
# --------------------------------------------------------------------------


class PydFileSearchRankingOptions(_PydBase):
    ranker: str
    score_threshold: float


class PydFileSearchResultContent(_PydBase):
    type: str
    text: Optional[str] = None


class PydFileSearchResult(_PydBase):
    file_id: str
    file_name: str
    score: float
    attributes: Optional[dict[str, Any]] = None
    content: Optional[list[PydFileSearchResultContent]] = None


class PydFileSearch(_PydBase):
    ranking_options: Optional[PydFileSearchRankingOptions] = None
    results: Optional[list[PydFileSearchResult]] = None


class PydFileSearchToolCall(_PydBase):
    type: Literal["file_search"]
    id: str
    file_search: PydFileSearch


# --------------------------------------------------------------------------
# Function
# --------------------------------------------------------------------------


class PydFunction(_PydBase):
    name: str
    arguments: str
    output: Optional[str] = None


class PydFunctionToolCall(_PydBase):
    type: Literal["function"]
    id: str
    function: PydFunction


# --------------------------------------------------------------------------
# Azure AI Agents tool calls
# --------------------------------------------------------------------------


class PydBingGroundingToolCall(_PydBase):
    type: Literal["bing_grounding"]
    id: str
    bing_grounding: StringMap


class PydBingCustomSearchToolCall(_PydBase):
    type: Literal["bing_custom_search"]
    id: str
    bing_custom_search: StringMap


class PydAzureAISearchToolCall(_PydBase):
    type: Literal["azure_ai_search"]
    id: str
    azure_ai_search: StringMap


class PydSharepointGroundingToolCall(_PydBase):
    type: Literal["sharepoint_grounding"]
    id: str
    sharepoint_grounding: StringMap


class PydFabricDataAgentToolCall(_PydBase):
    type: Literal["fabric_dataagent"]
    id: str
    fabric_dataagent: StringMap


class PydOpenAPIToolCall(_PydBase):
    type: Literal["openapi"]
    id: str
    openapi: StringMap


class PydAzureFunction(_PydBase):
    name: Optional[str] = None
    arguments: Optional[str] = None
    output: Optional[str] = None


class PydAzureFunctionToolCall(_PydBase):
    type: Literal["azure_function"]
    id: str
    azure_function: PydAzureFunction


class PydConnectedAgent(_PydBase):
    name: Optional[str] = None
    arguments: Optional[str] = None
    output: Optional[str] = None
    run_id: Optional[str] = None
    thread_id: Optional[str] = None
    assistant_id: Optional[str] = None


class PydConnectedAgentToolCall(_PydBase):
    type: Literal["connected_agent"]
    id: str
    connected_agent: PydConnectedAgent


class PydDeepResearch(_PydBase):
    input: str
    output: Optional[str] = None


class PydDeepResearchToolCall(_PydBase):
    type: Literal["deep_research"]
    id: str
    deep_research: PydDeepResearch


class PydMCPToolCall(_PydBase):
    type: Literal["mcp"]
    id: str
    arguments: str
    name: str
    output: Optional[str] = None
    server_label: Optional[str] = None


# Computer use ---------------------------------------------------------------


class PydClickAction(_PydBase):
    type: Literal["click"]
    x: int
    y: int
    button: str


class PydDoubleClickAction(_PydBase):
    type: Literal["double_click"]
    x: int
    y: int


class PydCoordinatePoint(_PydBase):
    x: int
    y: int


class PydDragAction(_PydBase):
    type: Literal["drag"]
    path: list[PydCoordinatePoint]


class PydKeyPressAction(_PydBase):
    type: Literal["keypress"]
    keys: list[str]


class PydMoveAction(_PydBase):
    type: Literal["move"]
    x: int
    y: int


class PydScreenshotAction(_PydBase):
    type: Literal["screenshot"]


class PydScrollAction(_PydBase):
    type: Literal["scroll"]
    x: int
    y: int
    scroll_x: int
    scroll_y: int


class PydTypeAction(_PydBase):
    type: Literal["type"]
    text: str


class PydWaitAction(_PydBase):
    type: Literal["wait"]


PydComputerAction = Annotated[
    Union[
        PydClickAction,
        PydDoubleClickAction,
        PydDragAction,
        PydKeyPressAction,
        PydMoveAction,
        PydScreenshotAction,
        PydScrollAction,
        PydTypeAction,
        PydWaitAction,
    ],
    Field(discriminator="type"),
]


class PydSafetyCheck(_PydBase):
    id: str
    code: Optional[str] = None
    message: Optional[str] = None


class PydComputerScreenshot(_PydBase):
    type: Literal["computer_screenshot"]
    file_id: Optional[str] = None
    image_url: Optional[str] = None


class PydComputerUse(_PydBase):
    action: PydComputerAction
    pending_safety_checks: list[PydSafetyCheck]
    output: Optional[PydComputerScreenshot] = None
    acknowledged_safety_checks: Optional[list[PydSafetyCheck]] = None


class PydComputerUseToolCall(_PydBase):
    type: Literal["computer_use_preview"]
    id: str
    computer_use_preview: PydComputerUse


# Browser automation ---------------------------------------------------------


class PydBrowserAutomationStep(_PydBase):
    last_step_result: str
    current_state: str
    next_step: str


class PydBrowserAutomation(_PydBase):
    input: str
    output: str
    steps: list[PydBrowserAutomationStep]


class PydBrowserAutomationToolCall(_PydBase):
    type: Literal["browser_automation"]
    id: str
    browser_automation: PydBrowserAutomation


PydToolCall = Annotated[
    Union[
        PydCodeInterpreterToolCall,
        PydFileSearchToolCall,
        PydFunctionToolCall,
        PydBingGroundingToolCall,
        PydBingCustomSearchToolCall,
        PydAzureAISearchToolCall,
        PydSharepointGroundingToolCall,
        PydFabricDataAgentToolCall,
        PydOpenAPIToolCall,
        PydAzureFunctionToolCall,
        PydConnectedAgentToolCall,
        PydDeepResearchToolCall,
        PydMCPToolCall,
        PydComputerUseToolCall,
        PydBrowserAutomationToolCall,
    ],
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------
# Step details
# --------------------------------------------------------------------------


class PydMessageCreation(_PydBase):
    message_id: str


class PydMessageCreationStepDetails(_PydBase):
    type: Literal["message_creation"]
    message_creation: PydMessageCreation


class PydToolCallsStepDetails(_PydBase):
    type: Literal["tool_calls"]
    tool_calls: list[PydToolCall]


class PydActivityFunctionArgument(_PydBase):
    type: str
    description: Optional[str] = None


class PydActivityFunctionParameters(_PydBase):
    type: str
    properties: dict[str, PydActivityFunctionArgument]
    required: Optional[list[str]] = None
    additional_properties: Optional[bool] = Field(default=None, alias="additionalProperties")


class PydActivityFunctionDefinition(_PydBase):
    description: Optional[str] = None
    parameters: Optional[PydActivityFunctionParameters] = None


class PydMCPListToolsActivity(_PydBase):
    type: Literal["mcp_list_tools"]
    id: str
    server_label: str
    tools: dict[str, PydActivityFunctionDefinition]


# A one-member union, as in stepwire; the discriminator still checks the tag.
PydActivity = Annotated[Union[PydMCPListToolsActivity], Field(discriminator="type")]


class PydActivitiesStepDetails(_PydBase):
    type: Literal["activities"]
    activities: list[PydActivity]


PydStepDetails = Annotated[
    Union[PydMessageCreationStepDetails, PydToolCallsStepDetails, PydActivitiesStepDetails],
    Field(discriminator="type"),
]


class _PydStepHeader(_PydBase):
    """The fields of a run step other than its details."""

    id: str
    object: Literal["thread.run.step", "assistant.run.step"]
    created_at: int
    run_id: str
    assistant_id: str
    thread_id: str
    type: str
    status: str
    cancelled_at: Optional[int] = None
    completed_at: Optional[int] = None
    expires_at: Optional[int] = None
    expired_at: Optional[int] = None
    failed_at: Optional[int] = None
    last_error: Optional[PydLastError] = None
    usage: Optional[PydUsage] = None
    metadata: Optional[dict[str, str]] = None


class PydRunStep(_PydStepHeader):
    """A run step (``thread.run.step``; Azure ``assistant.run.step``)."""

    step_details: PydStepDetails


class PydRunStepPage(_PydBase):
    """One page of ``GET /threads/{thread}/runs/{run}/steps``."""

    object: Literal["list"]
    data: list[PydRunStep]
    first_id: Optional[str] = None
    last_id: Optional[str] = None
    has_more: bool


# --------------------------------------------------------------------------
# Deltas (streaming)
# --------------------------------------------------------------------------


class PydCodeInterpreterLogsDelta(_PydBase):
    type: Literal["logs"]
    index: int
    logs: Optional[str] = None


class PydImageFileDelta(_PydBase):
    file_id: Optional[str] = None


class PydCodeInterpreterImageDelta(_PydBase):
    type: Literal["image"]
    index: int
    image: Optional[PydImageFileDelta] = None


PydCodeInterpreterOutputDelta = Annotated[
    Union[PydCodeInterpreterLogsDelta, PydCodeInterpreterImageDelta],
    Field(discriminator="type"),
]


class PydCodeInterpreterDelta(_PydBase):
    input: Optional[str] = None
    outputs: Optional[list[PydCodeInterpreterOutputDelta]] = None


class _PydToolCallDeltaBase(_PydBase):
    """Fields every tool-call delta has: ``index`` always, ``id`` on the first only."""

    index: int
    id: Optional[str] = None


class PydCodeInterpreterToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["code_interpreter"]
    code_interpreter: Optional[PydCodeInterpreterDelta] = None


class PydFileSearchToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["file_search"]
    file_search: Optional[PydFileSearch] = None


class PydFunctionDelta(_PydBase):
    name: Optional[str] = None
    arguments: Optional[str] = None
    output: Optional[str] = None


class PydFunctionToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["function"]
    function: Optional[PydFunctionDelta] = None


class PydBingGroundingToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["bing_grounding"]
    bing_grounding: Optional[StringMap] = None


class PydBingCustomSearchToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["bing_custom_search"]
    bing_custom_search: Optional[StringMap] = None


class PydAzureAISearchToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["azure_ai_search"]
    azure_ai_search: Optional[StringMap] = None


class PydSharepointGroundingToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["sharepoint_grounding"]
    sharepoint_grounding: Optional[StringMap] = None


class PydFabricDataAgentToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["fabric_dataagent"]
    fabric_dataagent: Optional[StringMap] = None


class PydOpenAPIToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["openapi"]
    openapi: Optional[StringMap] = None


class PydAzureFunctionToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["azure_function"]
    azure_function: Optional[PydAzureFunction] = None


class PydConnectedAgentToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["connected_agent"]
    connected_agent: Optional[PydConnectedAgent] = None


class PydDeepResearchDelta(_PydBase):
    input: Optional[str] = None
    output: Optional[str] = None


class PydDeepResearchToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["deep_research"]
    deep_research: Optional[PydDeepResearchDelta] = None


class PydMCPToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["mcp"]
    arguments: Optional[str] = None
    name: Optional[str] = None
    output: Optional[str] = None
    server_label: Optional[str] = None


class PydComputerUseDelta(_PydBase):
    action: Optional[PydComputerAction] = None
    pending_safety_checks: Optional[list[PydSafetyCheck]] = None
    output: Optional[PydComputerScreenshot] = None
    acknowledged_safety_checks: Optional[list[PydSafetyCheck]] = None


class PydComputerUseToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["computer_use_preview"]
    computer_use_preview: Optional[PydComputerUseDelta] = None


class PydBrowserAutomationDelta(_PydBase):
    input: Optional[str] = None
    output: Optional[str] = None
    steps: Optional[list[PydBrowserAutomationStep]] = None


class PydBrowserAutomationToolCallDelta(_PydToolCallDeltaBase):
    type: Literal["browser_automation"]
    browser_automation: Optional[PydBrowserAutomationDelta] = None


PydToolCallDelta = Annotated[
    Union[
        PydCodeInterpreterToolCallDelta,
        PydFileSearchToolCallDelta,
        PydFunctionToolCallDelta,
        PydBingGroundingToolCallDelta,
        PydBingCustomSearchToolCallDelta,
        PydAzureAISearchToolCallDelta,
        PydSharepointGroundingToolCallDelta,
        PydFabricDataAgentToolCallDelta,
        PydOpenAPIToolCallDelta,
        PydAzureFunctionToolCallDelta,
        PydConnectedAgentToolCallDelta,
        PydDeepResearchToolCallDelta,
        PydMCPToolCallDelta,
        PydComputerUseToolCallDelta,
        PydBrowserAutomationToolCallDelta,
    ],
    Field(discriminator="type"),
]


class PydMessageCreationDelta(_PydBase):
    message_id: Optional[str] = None


class PydMessageCreationStepDetailsDelta(_PydBase):
    type: Literal["message_creation"]
    message_creation: Optional[PydMessageCreationDelta] = None


class PydToolCallsStepDetailsDelta(_PydBase):
    type: Literal["tool_calls"]
    tool_calls: Optional[list[PydToolCallDelta]] = None


class PydMCPStepDetailsDelta(_PydBase):
    type: Literal["mcp"]
    tool_calls: Optional[list[PydToolCallDelta]] = None


class PydOpenAPIStepDetailsDelta(_PydBase):
    type: Literal["openapi"]
    tool_calls: Optional[list[PydToolCallDelta]] = None


PydStepDetailsDelta = Annotated[
    Union[
        PydMessageCreationStepDetailsDelta,
        PydToolCallsStepDetailsDelta,
        PydMCPStepDetailsDelta,
        PydOpenAPIStepDetailsDelta,
    ],
    Field(discriminator="type"),
]


class PydRunStepDelta(_PydBase):
    """The changed fields of a run step."""

    step_details: Optional[PydStepDetailsDelta] = None


class PydRunStepDeltaEvent(_PydBase):
    """The data of a ``thread.run.step.delta`` event."""

    id: str
    object: Literal["thread.run.step.delta"]
    delta: PydRunStepDelta


PAGE_ADAPTER: TypeAdapter[PydRunStepPage] = TypeAdapter(PydRunStepPage)
STEP_ADAPTER: TypeAdapter[PydRunStep] = TypeAdapter(PydRunStep)
DELTA_ADAPTER: TypeAdapter[PydRunStepDeltaEvent] = TypeAdapter(PydRunStepDeltaEvent)
