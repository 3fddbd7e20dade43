"""Looking up a controller by its reference, for every use case that acts on one.

Nearly every service starts by loading the controller it acts on (an unknown reference is
exit 2). That lookup needs only the store, so it lives here, below the services, instead of
each service reaching the controllers service through another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.domain.controllers import Controller
from processor.domain.ids import controller_id
from processor.kernel.errors import NotFoundError

if TYPE_CHECKING:
    from processor.app import Processor


def find_controller(proc: Processor, ref: str) -> Controller:
    """Load a controller or fail with NotFoundError."""
    controller = proc.find(controller_id(ref))
    if not isinstance(controller, Controller):
        raise NotFoundError(f"unknown controller {ref!r}")
    return controller
