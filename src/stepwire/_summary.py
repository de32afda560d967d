"""Summary views: a run step whose details stay undecoded until read."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from ._decode import Decoder

from ._model import StepDetails, _PageHeader, _StepHeader

__all__ = ["RunStepSummary", "RunStepSummaryPage"]


@cache
def _details_decoder() -> Decoder[StepDetails]:
    # Built on first use: summary users who never read details never pay for it.
    from ._decode import Decoder

    return Decoder(StepDetails)


class RunStepSummary(_StepHeader, kw_only=True):
    """A run step with ``step_details`` left as a ``msgspec.Raw`` view.

    For services that read only ids, status, usage and timestamps: the details
    (tool calls, file search contents) are skipped over, not built, and the
    ``Raw`` view points into the input buffer without a copy. ``details()``
    decodes them on demand.
    """

    step_details: msgspec.Raw

    def details(self) -> StepDetails:
        """Decode ``step_details`` (unknown types decode as ``UnknownStepDetails``).

        Returns
        -------
        StepDetails

        Raises
        ------
        DecodeError
            If the details are not valid; the path is relative to ``step_details``.
        """
        return _details_decoder().decode(self.step_details)


class RunStepSummaryPage(_PageHeader, kw_only=True):
    """A page of ``RunStepSummary`` objects."""

    data: list[RunStepSummary]
