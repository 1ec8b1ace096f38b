"""Attention aids: walk through a lesion's candidates, jump to where the model's heads disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject

from core.review.navigation import Region, lesion_components, next_index, uncertain_regions

if TYPE_CHECKING:
    from app.image_view import ImageView
    from app.notify import Notifier
    from app.review_panel import ReviewPanel
    from core.lesions import Lesion
    from core.review.editable_mask import EditableMask
    from core.review.state import ReviewState


class ReviewAccess(Protocol):
    """What the aids need of the review controller (it owns them; they never import it)."""

    state: ReviewState
    view: ImageView
    notifier: Notifier
    panel: ReviewPanel
    active: Lesion

    def mask(self, lesion: Lesion, adopt: bool = True) -> EditableMask | None: ...

    def edited(self, lesion: Lesion, box: tuple[int, int, int, int] | None) -> None: ...


class NavigationAids(QObject):
    """Candidate walk (keep / delete with one key) and uncertain-region jumps for the current photograph."""

    def __init__(self, review: ReviewAccess, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self.state, self.view, self.notifier = review.state, review.view, review.notifier
        self.reset()

    def forget_components(self) -> None:
        """The mask changed: the candidate list is rebuilt at the next step."""
        self._components = []

    def reset(self) -> None:
        """Forget the lists (another photograph, another lesion, or the mask changed)."""
        self._components: list[Region] = []
        self._component_index: int | None = None
        self._uncertain: list[Region] = []
        self._uncertain_index: int | None = None

    def step_component(self, step: int) -> None:
        """Centre the view on the next (or previous) component of the active lesion."""
        analysis = self.state.analysis
        if analysis is None or analysis.prediction is None:
            return
        if not self._components:
            mask = self.review.mask(self.review.active, adopt=False)
            current = (
                mask.mask()
                if mask is not None
                else analysis.prediction.mask(self.review.active, self.state.thresholds[self.review.active])
            )
            self._components, self._component_index = lesion_components(current), None
        self._component_index = next_index(len(self._components), self._component_index, step)
        if self._component_index is None:
            self.notifier.show_message(f"no {self.review.active.title.lower()} candidates", 4000)
            self.view.show_marker(None)
            return
        region = self._components[self._component_index]
        self.view.centre_on(region.box)
        self.view.show_marker(region.box)
        self.notifier.show_message(
            f"{self.review.active.code} candidate {self._component_index + 1} of {len(self._components)}: "
            f"{region.pixels} px; Y keeps it, X deletes it",
            8000,
        )

    def decide_component(self, keep: bool) -> None:
        """Keep or delete the component under review, then go to the next one."""
        if self._component_index is None or not self._components:
            self.step_component(1)
            return
        region = self._components[self._component_index]
        mask = self.review.mask(self.review.active)
        if mask is None:
            return
        index, components = self._component_index, self._components
        box = mask.set_component(*region.centre, keep=keep)
        self.review.edited(self.review.active, box)
        self._components, self._component_index = components, index  # keep the walk going
        self.step_component(1)

    def next_uncertain(self) -> None:
        """Centre the view on the next region where the heads disagree most."""
        analysis = self.state.analysis
        spread = (
            analysis.prediction.spread if analysis is not None and analysis.prediction is not None else None
        )
        if spread is None:
            self.notifier.show_message("no disagreement map for this photograph", 4000)
            return
        if not self._uncertain:
            self._uncertain, self._uncertain_index = uncertain_regions(spread), None
        self._uncertain_index = next_index(len(self._uncertain), self._uncertain_index)
        if self._uncertain_index is None:
            self.notifier.show_message("the heads agree everywhere", 4000)
            return
        if not self.review.panel.spread_box.isChecked():
            self.review.panel.spread_box.setChecked(True)
        region = self._uncertain[self._uncertain_index]
        self.view.centre_on(region.box)
        self.view.show_marker(region.box)
        self.notifier.show_message(
            f"uncertain region {self._uncertain_index + 1} of {len(self._uncertain)}", 6000
        )
