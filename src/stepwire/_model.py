"""The run-step object model: msgspec Structs with tagged unions.

Field policy, chosen so that decode -> encode -> parse is the identity:

* a field the API may leave out defaults to ``UNSET`` and is then left out of
  the encoding again (absent stays absent);
* a field the API may send as ``null`` admits ``None`` (null stays null);
* enumerations that may grow (status, error codes, rankers, step types) are open
  strings here; ``strict=True`` decoding checks them against the spec through
  the ``StrictAs`` annotations, which plain msgspec ignores.

Every Struct is ``gc=False``: decoded trees are acyclic, and keeping
thousands of small objects out of the cycle collector is most of msgspec's
lead over dict-building parsers when the collector is on.

Unknown tagged-union members (a tool call type stepwire does not know yet)
are not Structs: they are ``UnknownObject`` dicts that hold the object as parsed
and encode back unchanged. At runtime the union aliases therefore list the
known members only (msgspec builds the fast decoder from them); type checkers
see the unknown member too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, Union

from msgspec import UNSET, Meta, Struct, UnsetType

from ._unknown import (
    EXTRA_KEY,
    ExtraFields,
    StrictAs,
    UnknownAction,
    UnknownActivity,
    UnknownOutput,
    UnknownOutputDelta,
    UnknownStepDetails,
    UnknownStepDetailsDelta,
    UnknownToolCall,
    UnknownToolCallDelta,
)

if TYPE_CHECKING:
    from typing import Annotated, TypeAlias
else:
    from typing import Annotated

T = TypeVar("T")

#: A field that may be absent (``UNSET``) or ``null`` (``None``).
Nullable: TypeAlias = Union[T, UnsetType, None]

# Spec constraints, enforced by strict=True only.
_MetadataKey = Annotated[str, Meta(max_length=64)]
_MetadataValue = Annotated[str, Meta(max_length=512)]
Metadata = Annotated[
    dict[str, str],
    StrictAs(Annotated[dict[_MetadataKey, _MetadataValue], Meta(max_length=16)]),
]
Score = Annotated[float, StrictAs(Annotated[float, Meta(ge=0.0, le=1.0)])]
StepStatus = Annotated[
    str, StrictAs(Literal["in_progress", "cancelled", "failed", "completed", "expired"])
]
StepType = Annotated[str, StrictAs(Literal["message_creation", "tool_calls", "activities"])]
ErrorCode = Annotated[str, StrictAs(Literal["server_error", "rate_limit_exceeded"])]
Ranker = Annotated[str, StrictAs(Literal["auto", "default_2024_08_21"])]

#: Every integer field: JSON integers outside signed 64 bits are refused, as most
#: JSON consumers (and the API itself) cannot represent them.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
Int64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]


class FreeForm:
    """``Annotated`` metadata: a field whose value may be any JSON value.

    The fast decoder accepts only the scalars such a field usually holds; an
    array or object there makes it fail, and the fallback (``_fallback``)
    then keeps the value as parsed after checking its depth and integers
    against the limits every free-form value obeys (docs/limits.md).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "FreeForm()"


FREE_FORM = FreeForm()

if TYPE_CHECKING:
    #: Any JSON value (file search ``attributes`` values).
    JSONValue: TypeAlias = Any
else:
    JSONValue = Annotated[Union[str, Int64, float, bool, None], FREE_FORM]

#: An Azure tool payload map (``bing_grounding``, ``fabric_dataagent``...): strings
#: by the spec. The live service also sends nulls, and the default mode keeps
#: any JSON value there; ``strict=True`` holds it to strings.
StringMap = Annotated[dict[str, JSONValue], StrictAs(dict[str, str])]


class _Base(
    Struct,
    kw_only=True,
    gc=False,
    repr_omit_defaults=True,
    forbid_unknown_fields=True,
    rename={"extra": EXTRA_KEY},
):
    """Options shared by every model Struct, and the ``extra`` field they all have.

    ``forbid_unknown_fields`` is what makes a body with a field this release
    does not model fail the fast decoder at no cost to bodies without one;
    the fallback (``_fallback``) then keeps the field in ``extra``.
    """

    #: The fields of this object that stepwire does not model, as parsed
    #: (``UNSET`` when there are none); ``encode`` writes them back.
    extra: Union[ExtraFields, UnsetType] = UNSET


class _Tagged(_Base, tag_field="type", kw_only=True):
    """A member of a union tagged on ``"type"``; ``.type`` reads the tag."""

    type: ClassVar[str]


# --------------------------------------------------------------------------
# Step-level objects
# --------------------------------------------------------------------------


class LastError(_Base, kw_only=True):
    """The last error of a run step (``null`` while there is none)."""

    code: ErrorCode
    message: str


class PromptTokenDetails(_Base, kw_only=True):
    """Prompt token breakdown (the live API spells it ``prompt_token_details``)."""

    cached_tokens: Nullable[Int64] = UNSET


class CompletionTokensDetails(_Base, kw_only=True):
    """Completion token breakdown."""

    reasoning_tokens: Nullable[Int64] = UNSET


class Usage(_Base, kw_only=True):
    """Token usage of a run step; ``null`` while the step is in progress."""

    completion_tokens: Int64
    prompt_tokens: Int64
    total_tokens: Int64
    prompt_token_details: Nullable[PromptTokenDetails] = UNSET
    # The plural spelling other OpenAI endpoints use; kept apart so that a body
    # carrying either spelling round-trips as sent.
    prompt_tokens_details: Nullable[PromptTokenDetails] = UNSET
    completion_tokens_details: Nullable[CompletionTokensDetails] = UNSET


# --------------------------------------------------------------------------
# Code interpreter
# --------------------------------------------------------------------------


class CodeInterpreterLogOutput(_Tagged, tag="logs", kw_only=True):
    """Text output of a code interpreter call."""

    type: ClassVar[Literal["logs"]] = "logs"
    logs: str


class ImageFile(_Base, kw_only=True):
    """A file produced by a tool call."""

    file_id: str


class CodeInterpreterImageOutput(_Tagged, tag="image", kw_only=True):
    """Image output of a code interpreter call."""

    type: ClassVar[Literal["image"]] = "image"
    image: ImageFile


if TYPE_CHECKING:
    CodeInterpreterOutput: TypeAlias = Union[
        CodeInterpreterLogOutput, CodeInterpreterImageOutput, UnknownOutput
    ]
else:
    CodeInterpreterOutput = Union[CodeInterpreterLogOutput, CodeInterpreterImageOutput]


class CodeInterpreter(_Base, kw_only=True):
    """The code a code interpreter call ran and what it produced."""

    input: str
    outputs: list[CodeInterpreterOutput]


class CodeInterpreterToolCall(_Tagged, tag="code_interpreter", kw_only=True):
    """A code interpreter tool call."""

    type: ClassVar[Literal["code_interpreter"]] = "code_interpreter"
    id: str
    code_interpreter: CodeInterpreter


# --------------------------------------------------------------------------
# File search
# --------------------------------------------------------------------------


class FileSearchRankingOptions(_Base, kw_only=True):
    """Ranking options a file search ran with."""

    ranker: Ranker
    score_threshold: float


class FileSearchResultContent(_Base, kw_only=True):
    """One content part of a file search result (only with ``include[]``)."""

    type: str
    text: Nullable[str] = UNSET


class FileSearchResult(_Base, kw_only=True):
    """One file search hit."""

    file_id: str
    file_name: str
    score: Score
    attributes: Nullable[dict[str, JSONValue]] = UNSET
    content: Nullable[list[FileSearchResultContent]] = UNSET


class FileSearch(_Base, kw_only=True):
    """The body of a file search call (``{}`` in early API versions)."""

    ranking_options: Nullable[FileSearchRankingOptions] = UNSET
    results: Nullable[list[FileSearchResult]] = UNSET


class FileSearchToolCall(_Tagged, tag="file_search", kw_only=True):
    """A file search tool call."""

    type: ClassVar[Literal["file_search"]] = "file_search"
    id: str
    file_search: FileSearch


# --------------------------------------------------------------------------
# Function
# --------------------------------------------------------------------------


class Function(_Base, kw_only=True):
    """A function call; ``output`` is null (or, in v1 bodies, absent) until submitted."""

    name: str
    arguments: str
    output: Nullable[str] = UNSET


class FunctionToolCall(_Tagged, tag="function", kw_only=True):
    """A function tool call."""

    type: ClassVar[Literal["function"]] = "function"
    id: str
    function: Function


# --------------------------------------------------------------------------
# Azure AI Agents tool calls
# --------------------------------------------------------------------------


class BingGroundingToolCall(_Tagged, tag="bing_grounding", kw_only=True):
    """Azure: Bing grounding call (an open string map such as ``requesturl``)."""

    type: ClassVar[Literal["bing_grounding"]] = "bing_grounding"
    id: str
    bing_grounding: StringMap


class BingCustomSearchToolCall(_Tagged, tag="bing_custom_search", kw_only=True):
    """Azure: Bing custom search call."""

    type: ClassVar[Literal["bing_custom_search"]] = "bing_custom_search"
    id: str
    bing_custom_search: StringMap


class AzureAISearchToolCall(_Tagged, tag="azure_ai_search", kw_only=True):
    """Azure: Azure AI Search call."""

    type: ClassVar[Literal["azure_ai_search"]] = "azure_ai_search"
    id: str
    azure_ai_search: StringMap


class SharepointGroundingToolCall(_Tagged, tag="sharepoint_grounding", kw_only=True):
    """Azure: SharePoint grounding call."""

    type: ClassVar[Literal["sharepoint_grounding"]] = "sharepoint_grounding"
    id: str
    sharepoint_grounding: StringMap


class FabricDataAgentToolCall(_Tagged, tag="fabric_dataagent", kw_only=True):
    """Azure: Microsoft Fabric data agent call."""

    type: ClassVar[Literal["fabric_dataagent"]] = "fabric_dataagent"
    id: str
    fabric_dataagent: StringMap


class OpenAPIFunction(_Base, kw_only=True):
    """Azure: the operation an OpenAPI tool call invoked, as the live service sends it."""

    name: Nullable[str] = UNSET
    arguments: Nullable[str] = UNSET
    output: Nullable[str] = UNSET


class OpenAPIToolCall(_Tagged, tag="openapi", kw_only=True):
    """Azure: OpenAPI tool call.

    The SDK models an ``openapi`` map; the live service sends the operation
    as ``function`` instead. Either may be absent.
    """

    type: ClassVar[Literal["openapi"]] = "openapi"
    id: str
    openapi: Nullable[StringMap] = UNSET
    function: Nullable[OpenAPIFunction] = UNSET


class AzureFunction(_Base, kw_only=True):
    """Azure: the body of an Azure Function call."""

    name: Nullable[str] = UNSET
    arguments: Nullable[str] = UNSET
    output: Nullable[str] = UNSET


class AzureFunctionToolCall(_Tagged, tag="azure_function", kw_only=True):
    """Azure: Azure Function call."""

    type: ClassVar[Literal["azure_function"]] = "azure_function"
    id: str
    azure_function: AzureFunction


class ConnectedAgent(_Base, kw_only=True):
    """Azure: the body of a connected-agent call."""

    name: Nullable[str] = UNSET
    arguments: Nullable[str] = UNSET
    output: Nullable[str] = UNSET
    run_id: Nullable[str] = UNSET
    thread_id: Nullable[str] = UNSET
    assistant_id: Nullable[str] = UNSET


class ConnectedAgentToolCall(_Tagged, tag="connected_agent", kw_only=True):
    """Azure: connected-agent call."""

    type: ClassVar[Literal["connected_agent"]] = "connected_agent"
    id: str
    connected_agent: ConnectedAgent


class DeepResearch(_Base, kw_only=True):
    """Azure: the body of a deep research call."""

    input: str
    output: Nullable[str] = UNSET


class DeepResearchToolCall(_Tagged, tag="deep_research", kw_only=True):
    """Azure: deep research call."""

    type: ClassVar[Literal["deep_research"]] = "deep_research"
    id: str
    deep_research: DeepResearch


class MCPToolCall(_Tagged, tag="mcp", kw_only=True):
    """Azure: MCP tool call (flat: no nested object)."""

    type: ClassVar[Literal["mcp"]] = "mcp"
    id: str
    arguments: str
    name: str
    output: Nullable[str] = UNSET
    server_label: Nullable[str] = UNSET


# Computer use ---------------------------------------------------------------


class ClickAction(_Tagged, tag="click", kw_only=True):
    """Azure computer use: a click."""

    type: ClassVar[Literal["click"]] = "click"
    x: Int64
    y: Int64
    button: str


class DoubleClickAction(_Tagged, tag="double_click", kw_only=True):
    """Azure computer use: a double click."""

    type: ClassVar[Literal["double_click"]] = "double_click"
    x: Int64
    y: Int64


class CoordinatePoint(_Base, kw_only=True):
    """A point on the screen."""

    x: Int64
    y: Int64


class DragAction(_Tagged, tag="drag", kw_only=True):
    """Azure computer use: a drag along a path."""

    type: ClassVar[Literal["drag"]] = "drag"
    path: list[CoordinatePoint]


class KeyPressAction(_Tagged, tag="keypress", kw_only=True):
    """Azure computer use: a key combination."""

    type: ClassVar[Literal["keypress"]] = "keypress"
    keys: list[str]


class MoveAction(_Tagged, tag="move", kw_only=True):
    """Azure computer use: a pointer move."""

    type: ClassVar[Literal["move"]] = "move"
    x: Int64
    y: Int64


class ScreenshotAction(_Tagged, tag="screenshot", kw_only=True):
    """Azure computer use: take a screenshot."""

    type: ClassVar[Literal["screenshot"]] = "screenshot"


class ScrollAction(_Tagged, tag="scroll", kw_only=True):
    """Azure computer use: a scroll."""

    type: ClassVar[Literal["scroll"]] = "scroll"
    x: Int64
    y: Int64
    scroll_x: Int64
    scroll_y: Int64


class TypeAction(_Tagged, tag="type", kw_only=True):
    """Azure computer use: type text."""

    type: ClassVar[Literal["type"]] = "type"
    text: str


class WaitAction(_Tagged, tag="wait", kw_only=True):
    """Azure computer use: wait."""

    type: ClassVar[Literal["wait"]] = "wait"


if TYPE_CHECKING:
    ComputerAction: TypeAlias = Union[
        ClickAction,
        DoubleClickAction,
        DragAction,
        KeyPressAction,
        MoveAction,
        ScreenshotAction,
        ScrollAction,
        TypeAction,
        WaitAction,
        UnknownAction,
    ]
else:
    ComputerAction = Union[
        ClickAction,
        DoubleClickAction,
        DragAction,
        KeyPressAction,
        MoveAction,
        ScreenshotAction,
        ScrollAction,
        TypeAction,
        WaitAction,
    ]


class SafetyCheck(_Base, kw_only=True):
    """Azure computer use: a safety check to acknowledge."""

    id: str
    code: Nullable[str] = UNSET
    message: Nullable[str] = UNSET


class ComputerScreenshot(_Base, kw_only=True):
    """Azure computer use: the screenshot a call returned."""

    type: Literal["computer_screenshot"]
    file_id: Nullable[str] = UNSET
    image_url: Nullable[str] = UNSET


class ComputerUse(_Base, kw_only=True):
    """Azure computer use: the body of a call."""

    action: ComputerAction
    pending_safety_checks: list[SafetyCheck]
    output: Nullable[ComputerScreenshot] = UNSET
    acknowledged_safety_checks: Nullable[list[SafetyCheck]] = UNSET


class ComputerUseToolCall(_Tagged, tag="computer_use_preview", kw_only=True):
    """Azure: computer use call."""

    type: ClassVar[Literal["computer_use_preview"]] = "computer_use_preview"
    id: str
    computer_use_preview: ComputerUse


# Browser automation ---------------------------------------------------------


class BrowserAutomationStep(_Base, kw_only=True):
    """Azure browser automation: one step the browser agent took."""

    last_step_result: str
    current_state: str
    next_step: str


class BrowserAutomation(_Base, kw_only=True):
    """Azure: the body of a browser automation call."""

    input: str
    output: str
    steps: list[BrowserAutomationStep]


class BrowserAutomationToolCall(_Tagged, tag="browser_automation", kw_only=True):
    """Azure: browser automation call."""

    type: ClassVar[Literal["browser_automation"]] = "browser_automation"
    id: str
    browser_automation: BrowserAutomation


if TYPE_CHECKING:
    ToolCall: TypeAlias = Union[
        CodeInterpreterToolCall,
        FileSearchToolCall,
        FunctionToolCall,
        BingGroundingToolCall,
        BingCustomSearchToolCall,
        AzureAISearchToolCall,
        SharepointGroundingToolCall,
        FabricDataAgentToolCall,
        OpenAPIToolCall,
        AzureFunctionToolCall,
        ConnectedAgentToolCall,
        DeepResearchToolCall,
        MCPToolCall,
        ComputerUseToolCall,
        BrowserAutomationToolCall,
        UnknownToolCall,
    ]
else:
    ToolCall = Union[
        CodeInterpreterToolCall,
        FileSearchToolCall,
        FunctionToolCall,
        BingGroundingToolCall,
        BingCustomSearchToolCall,
        AzureAISearchToolCall,
        SharepointGroundingToolCall,
        FabricDataAgentToolCall,
        OpenAPIToolCall,
        AzureFunctionToolCall,
        ConnectedAgentToolCall,
        DeepResearchToolCall,
        MCPToolCall,
        ComputerUseToolCall,
        BrowserAutomationToolCall,
    ]


# --------------------------------------------------------------------------
# Step details
# --------------------------------------------------------------------------


class MessageCreation(_Base, kw_only=True):
    """The message a message_creation step created."""

    message_id: str


class MessageCreationStepDetails(_Tagged, tag="message_creation", kw_only=True):
    """Details of a message_creation step."""

    type: ClassVar[Literal["message_creation"]] = "message_creation"
    message_creation: MessageCreation


class ToolCallsStepDetails(_Tagged, tag="tool_calls", kw_only=True):
    """Details of a tool_calls step."""

    type: ClassVar[Literal["tool_calls"]] = "tool_calls"
    tool_calls: list[ToolCall]


class ActivityFunctionArgument(_Base, kw_only=True):
    """Azure activities: one parameter of a listed MCP tool."""

    type: str
    description: Nullable[str] = UNSET


class ActivityFunctionParameters(
    _Base,
    rename={"additional_properties": "additionalProperties", "extra": EXTRA_KEY},
    kw_only=True,
):
    """Azure activities: the parameters schema of a listed MCP tool."""

    type: str
    properties: Nullable[dict[str, ActivityFunctionArgument]] = UNSET
    required: Nullable[list[str]] = UNSET
    additional_properties: Nullable[bool] = UNSET


class ActivityFunctionDefinition(_Base, kw_only=True):
    """Azure activities: a listed MCP tool."""

    description: Nullable[str] = UNSET
    parameters: Nullable[ActivityFunctionParameters] = UNSET


class MCPListToolsActivity(_Tagged, tag="mcp_list_tools", kw_only=True):
    """Azure activities: the tools an MCP server offered."""

    type: ClassVar[Literal["mcp_list_tools"]] = "mcp_list_tools"
    id: str
    server_label: str
    tools: dict[str, ActivityFunctionDefinition]


if TYPE_CHECKING:
    Activity: TypeAlias = Union[MCPListToolsActivity, UnknownActivity]
else:
    # A one-member tagged union still checks the tag, which is what lets an
    # unknown activity type fall back instead of being read as mcp_list_tools.
    Activity = Union[MCPListToolsActivity]


class ActivitiesStepDetails(_Tagged, tag="activities", kw_only=True):
    """Details of an Azure activities step."""

    type: ClassVar[Literal["activities"]] = "activities"
    activities: list[Activity]


if TYPE_CHECKING:
    StepDetails: TypeAlias = Union[
        MessageCreationStepDetails, ToolCallsStepDetails, ActivitiesStepDetails, UnknownStepDetails
    ]
else:
    StepDetails = Union[MessageCreationStepDetails, ToolCallsStepDetails, ActivitiesStepDetails]


class _StepHeader(_Base, kw_only=True):
    """The fields of a run step other than its details (shared with ``RunStepSummary``)."""

    id: str
    object: Literal["thread.run.step", "assistant.run.step"]
    created_at: Int64
    run_id: str
    assistant_id: str
    thread_id: str
    type: StepType
    status: StepStatus
    cancelled_at: Nullable[Int64] = UNSET
    completed_at: Nullable[Int64] = UNSET
    # The live API sends expires_at; the spec documents expired_at. Both are
    # kept, each exactly as sent.
    expires_at: Nullable[Int64] = UNSET
    expired_at: Nullable[Int64] = UNSET
    failed_at: Nullable[Int64] = UNSET
    last_error: Nullable[LastError] = UNSET
    usage: Nullable[Usage] = UNSET
    metadata: Nullable[Metadata] = UNSET


class RunStep(_StepHeader, kw_only=True):
    """A step in the execution of a run (``thread.run.step``; Azure ``assistant.run.step``)."""

    step_details: StepDetails


class _PageHeader(_Base, kw_only=True):
    """The fields of a page other than its data (shared with ``RunStepSummaryPage``)."""

    object: Literal["list"]
    first_id: Nullable[str] = UNSET
    last_id: Nullable[str] = UNSET
    has_more: bool


class RunStepPage(_PageHeader, kw_only=True):
    """One page of ``GET /threads/{thread}/runs/{run}/steps``."""

    data: list[RunStep]


# --------------------------------------------------------------------------
# Deltas (streaming)
# --------------------------------------------------------------------------


class CodeInterpreterLogsDelta(_Tagged, tag="logs", kw_only=True):
    """A fragment of code interpreter log output."""

    type: ClassVar[Literal["logs"]] = "logs"
    index: Int64
    logs: Nullable[str] = UNSET


class ImageFileDelta(_Base, kw_only=True):
    """A file reference inside a delta."""

    file_id: Nullable[str] = UNSET


class CodeInterpreterImageDelta(_Tagged, tag="image", kw_only=True):
    """A code interpreter image output inside a delta."""

    type: ClassVar[Literal["image"]] = "image"
    index: Int64
    image: Nullable[ImageFileDelta] = UNSET


if TYPE_CHECKING:
    CodeInterpreterOutputDelta: TypeAlias = Union[
        CodeInterpreterLogsDelta, CodeInterpreterImageDelta, UnknownOutputDelta
    ]
else:
    CodeInterpreterOutputDelta = Union[CodeInterpreterLogsDelta, CodeInterpreterImageDelta]


class CodeInterpreterDelta(_Base, kw_only=True):
    """A fragment of a code interpreter call."""

    input: Nullable[str] = UNSET
    outputs: Nullable[list[CodeInterpreterOutputDelta]] = UNSET


class _ToolCallDeltaBase(_Tagged, kw_only=True):
    """Fields every tool-call delta has: ``index`` always, ``id`` on the first only."""

    index: Int64
    id: Nullable[str] = UNSET


class CodeInterpreterToolCallDelta(_ToolCallDeltaBase, tag="code_interpreter", kw_only=True):
    """A code interpreter tool-call delta."""

    type: ClassVar[Literal["code_interpreter"]] = "code_interpreter"
    code_interpreter: Nullable[CodeInterpreterDelta] = UNSET


class FileSearchToolCallDelta(_ToolCallDeltaBase, tag="file_search", kw_only=True):
    """A file search tool-call delta."""

    type: ClassVar[Literal["file_search"]] = "file_search"
    file_search: Nullable[FileSearch] = UNSET


class FunctionDelta(_Base, kw_only=True):
    """A fragment of a function call."""

    name: Nullable[str] = UNSET
    arguments: Nullable[str] = UNSET
    output: Nullable[str] = UNSET


class FunctionToolCallDelta(_ToolCallDeltaBase, tag="function", kw_only=True):
    """A function tool-call delta."""

    type: ClassVar[Literal["function"]] = "function"
    function: Nullable[FunctionDelta] = UNSET


class BingGroundingToolCallDelta(_ToolCallDeltaBase, tag="bing_grounding", kw_only=True):
    """Azure: Bing grounding tool-call delta."""

    type: ClassVar[Literal["bing_grounding"]] = "bing_grounding"
    bing_grounding: Nullable[StringMap] = UNSET


class BingCustomSearchToolCallDelta(_ToolCallDeltaBase, tag="bing_custom_search", kw_only=True):
    """Azure: Bing custom search tool-call delta."""

    type: ClassVar[Literal["bing_custom_search"]] = "bing_custom_search"
    bing_custom_search: Nullable[StringMap] = UNSET


class AzureAISearchToolCallDelta(_ToolCallDeltaBase, tag="azure_ai_search", kw_only=True):
    """Azure: Azure AI Search tool-call delta."""

    type: ClassVar[Literal["azure_ai_search"]] = "azure_ai_search"
    azure_ai_search: Nullable[StringMap] = UNSET


class SharepointGroundingToolCallDelta(
    _ToolCallDeltaBase, tag="sharepoint_grounding", kw_only=True
):
    """Azure: SharePoint grounding tool-call delta."""

    type: ClassVar[Literal["sharepoint_grounding"]] = "sharepoint_grounding"
    sharepoint_grounding: Nullable[StringMap] = UNSET


class FabricDataAgentToolCallDelta(_ToolCallDeltaBase, tag="fabric_dataagent", kw_only=True):
    """Azure: Microsoft Fabric data agent tool-call delta."""

    type: ClassVar[Literal["fabric_dataagent"]] = "fabric_dataagent"
    fabric_dataagent: Nullable[StringMap] = UNSET


class OpenAPIToolCallDelta(_ToolCallDeltaBase, tag="openapi", kw_only=True):
    """Azure: OpenAPI tool-call delta."""

    type: ClassVar[Literal["openapi"]] = "openapi"
    openapi: Nullable[StringMap] = UNSET
    function: Nullable[FunctionDelta] = UNSET


class AzureFunctionToolCallDelta(_ToolCallDeltaBase, tag="azure_function", kw_only=True):
    """Azure: Azure Function tool-call delta."""

    type: ClassVar[Literal["azure_function"]] = "azure_function"
    azure_function: Nullable[AzureFunction] = UNSET


class ConnectedAgentToolCallDelta(_ToolCallDeltaBase, tag="connected_agent", kw_only=True):
    """Azure: connected-agent tool-call delta."""

    type: ClassVar[Literal["connected_agent"]] = "connected_agent"
    connected_agent: Nullable[ConnectedAgent] = UNSET


class DeepResearchDelta(_Base, kw_only=True):
    """Azure: a fragment of a deep research call."""

    input: Nullable[str] = UNSET
    output: Nullable[str] = UNSET


class DeepResearchToolCallDelta(_ToolCallDeltaBase, tag="deep_research", kw_only=True):
    """Azure: deep research tool-call delta."""

    type: ClassVar[Literal["deep_research"]] = "deep_research"
    deep_research: Nullable[DeepResearchDelta] = UNSET


class MCPToolCallDelta(_ToolCallDeltaBase, tag="mcp", kw_only=True):
    """Azure: MCP tool-call delta (flat)."""

    type: ClassVar[Literal["mcp"]] = "mcp"
    arguments: Nullable[str] = UNSET
    name: Nullable[str] = UNSET
    output: Nullable[str] = UNSET
    server_label: Nullable[str] = UNSET


class ComputerUseDelta(_Base, kw_only=True):
    """Azure: a fragment of a computer use call."""

    action: Nullable[ComputerAction] = UNSET
    pending_safety_checks: Nullable[list[SafetyCheck]] = UNSET
    output: Nullable[ComputerScreenshot] = UNSET
    acknowledged_safety_checks: Nullable[list[SafetyCheck]] = UNSET


class ComputerUseToolCallDelta(_ToolCallDeltaBase, tag="computer_use_preview", kw_only=True):
    """Azure: computer use tool-call delta."""

    type: ClassVar[Literal["computer_use_preview"]] = "computer_use_preview"
    computer_use_preview: Nullable[ComputerUseDelta] = UNSET


class BrowserAutomationDelta(_Base, kw_only=True):
    """Azure: a fragment of a browser automation call."""

    input: Nullable[str] = UNSET
    output: Nullable[str] = UNSET
    steps: Nullable[list[BrowserAutomationStep]] = UNSET


class BrowserAutomationToolCallDelta(_ToolCallDeltaBase, tag="browser_automation", kw_only=True):
    """Azure: browser automation tool-call delta (no wire sample yet; shaped like the call)."""

    type: ClassVar[Literal["browser_automation"]] = "browser_automation"
    browser_automation: Nullable[BrowserAutomationDelta] = UNSET


if TYPE_CHECKING:
    ToolCallDelta: TypeAlias = Union[
        CodeInterpreterToolCallDelta,
        FileSearchToolCallDelta,
        FunctionToolCallDelta,
        BingGroundingToolCallDelta,
        BingCustomSearchToolCallDelta,
        AzureAISearchToolCallDelta,
        SharepointGroundingToolCallDelta,
        FabricDataAgentToolCallDelta,
        OpenAPIToolCallDelta,
        AzureFunctionToolCallDelta,
        ConnectedAgentToolCallDelta,
        DeepResearchToolCallDelta,
        MCPToolCallDelta,
        ComputerUseToolCallDelta,
        BrowserAutomationToolCallDelta,
        UnknownToolCallDelta,
    ]
else:
    ToolCallDelta = Union[
        CodeInterpreterToolCallDelta,
        FileSearchToolCallDelta,
        FunctionToolCallDelta,
        BingGroundingToolCallDelta,
        BingCustomSearchToolCallDelta,
        AzureAISearchToolCallDelta,
        SharepointGroundingToolCallDelta,
        FabricDataAgentToolCallDelta,
        OpenAPIToolCallDelta,
        AzureFunctionToolCallDelta,
        ConnectedAgentToolCallDelta,
        DeepResearchToolCallDelta,
        MCPToolCallDelta,
        ComputerUseToolCallDelta,
        BrowserAutomationToolCallDelta,
    ]


class MessageCreationDelta(_Base, kw_only=True):
    """A fragment of a message_creation step."""

    message_id: Nullable[str] = UNSET


class MessageCreationStepDetailsDelta(_Tagged, tag="message_creation", kw_only=True):
    """Delta step details of a message_creation step."""

    type: ClassVar[Literal["message_creation"]] = "message_creation"
    message_creation: Nullable[MessageCreationDelta] = UNSET


class ToolCallsStepDetailsDelta(_Tagged, tag="tool_calls", kw_only=True):
    """Delta step details of a tool_calls step."""

    type: ClassVar[Literal["tool_calls"]] = "tool_calls"
    tool_calls: Nullable[list[ToolCallDelta]] = UNSET


class MCPStepDetailsDelta(_Tagged, tag="mcp", kw_only=True):
    """Azure: delta step details carrying MCP tool-call deltas."""

    type: ClassVar[Literal["mcp"]] = "mcp"
    tool_calls: Nullable[list[ToolCallDelta]] = UNSET


class OpenAPIStepDetailsDelta(_Tagged, tag="openapi", kw_only=True):
    """Azure: delta step details carrying OpenAPI tool-call deltas."""

    type: ClassVar[Literal["openapi"]] = "openapi"
    tool_calls: Nullable[list[ToolCallDelta]] = UNSET


if TYPE_CHECKING:
    StepDetailsDelta: TypeAlias = Union[
        MessageCreationStepDetailsDelta,
        ToolCallsStepDetailsDelta,
        MCPStepDetailsDelta,
        OpenAPIStepDetailsDelta,
        UnknownStepDetailsDelta,
    ]
else:
    StepDetailsDelta = Union[
        MessageCreationStepDetailsDelta,
        ToolCallsStepDetailsDelta,
        MCPStepDetailsDelta,
        OpenAPIStepDetailsDelta,
    ]


class RunStepDelta(_Base, kw_only=True):
    """The changed fields of a run step."""

    step_details: Nullable[StepDetailsDelta] = UNSET


class RunStepDeltaEvent(_Base, kw_only=True):
    """The data of a ``thread.run.step.delta`` event."""

    id: str
    object: Literal["thread.run.step.delta"]
    delta: RunStepDelta


class ApiError(_Base, kw_only=True):
    """The error an ``event: error`` of a stream carries (``{"error": {...}}``).

    Every field may be absent or null: servers differ in what they fill in.
    """

    code: Nullable[str] = UNSET
    message: Nullable[str] = UNSET
    param: Nullable[str] = UNSET
    type: Nullable[str] = UNSET


# Which unknown class stands in for an unknown tag of which union (see _fallback).
FALLBACKS: dict[object, type[Any]] = {
    ToolCall: UnknownToolCall,
    ToolCallDelta: UnknownToolCallDelta,
    StepDetails: UnknownStepDetails,
    StepDetailsDelta: UnknownStepDetailsDelta,
    CodeInterpreterOutput: UnknownOutput,
    CodeInterpreterOutputDelta: UnknownOutputDelta,
    ComputerAction: UnknownAction,
    Activity: UnknownActivity,
}

#: The unions whose members carry a payload: every field of a member but
#: ``id`` and ``index`` (and the ``type`` tag) is what the service reports of the
#: tool, and holds whatever the service sent (see _fallback).
PAYLOAD_UNIONS: tuple[object, ...] = (ToolCall, ToolCallDelta, Activity)
