"""A reviewer's editable mask for one lesion of one photograph, with undo and redo.

Each pixel keeps where its value came from (``MaskState``): lesion from the model, lesion
confirmed or added by the reviewer, or a model lesion the reviewer removed. Edits touch
only the rectangle they need; each undo step stores the before and after of that
rectangle, zlib-compressed (most of a lesion mask is empty).
"""

from __future__ import annotations

import hashlib
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np

from core.imaging.probability_maps import probability_to_level

Box = tuple[int, int, int, int]  # half-open (y0, x0, y1, x1)


class MaskState(IntEnum):
    """Per-pixel value of an editable mask (uint8)."""

    EMPTY = 0  # no lesion (model said none, nobody changed it)
    MODEL = 1  # lesion, from the model at the adopted threshold, not yet confirmed
    ADDED = 2  # lesion painted by the reviewer
    REMOVED = 3  # the model said lesion, the reviewer erased it
    CONFIRMED = 4  # a model lesion the reviewer kept


# Where painting (lesion) or erasing (no lesion) sends each state.
_PAINT = np.array(
    [MaskState.ADDED, MaskState.MODEL, MaskState.ADDED, MaskState.ADDED, MaskState.CONFIRMED], np.uint8
)
_ERASE = np.array(
    [MaskState.EMPTY, MaskState.REMOVED, MaskState.EMPTY, MaskState.REMOVED, MaskState.REMOVED], np.uint8
)
_KEEP = np.array(
    [MaskState.EMPTY, MaskState.CONFIRMED, MaskState.ADDED, MaskState.REMOVED, MaskState.CONFIRMED], np.uint8
)
_PAD = np.arange(256, dtype=np.uint8)


def _table(values: np.ndarray) -> np.ndarray:
    """A 256-entry uint8 table (states beyond 4 map to themselves) for ``cv2.LUT``."""
    table = _PAD.copy()
    table[: len(values)] = values
    return table


PAINT_TABLE, ERASE_TABLE, KEEP_TABLE = _table(_PAINT), _table(_ERASE), _table(_KEEP)


def is_lesion(states: np.ndarray) -> np.ndarray:
    """H x W bool: pixels that count as lesion (model, added or confirmed)."""
    return (states == MaskState.MODEL) | (states == MaskState.ADDED) | (states == MaskState.CONFIRMED)


def is_edited(states: np.ndarray) -> np.ndarray:
    """H x W bool: pixels the reviewer changed (added or removed)."""
    return (states == MaskState.ADDED) | (states == MaskState.REMOVED)


@dataclass(frozen=True)
class EditStep:
    """One undoable edit: the rectangle before and after, zlib-compressed uint8."""

    box: Box
    before: bytes
    after: bytes
    label: str

    @property
    def size(self) -> int:
        return len(self.before) + len(self.after)


def _pack(patch: np.ndarray) -> bytes:
    return zlib.compress(np.ascontiguousarray(patch).tobytes(), 1)


def _unpack(data: bytes, box: Box) -> np.ndarray:
    y0, x0, y1, x1 = box
    return np.frombuffer(zlib.decompress(data), np.uint8).reshape(y1 - y0, x1 - x0)


class EditableMask:
    """The states of one lesion mask, edited in place.

    Args:
        states: H x W uint8 ``MaskState`` values (used in place, not copied).
        history: undo steps kept (at least 100).

    The array ``states`` is what the app shows (through a lookup table), so edits appear
    as soon as the touched rectangle is repainted.
    """

    def __init__(self, states: np.ndarray, history: int = 200) -> None:
        if states.dtype != np.uint8 or states.ndim != 2:
            raise ValueError(f"expected an H x W uint8 state map, got {states.shape} {states.dtype}")
        self.states = states
        self.undo_steps: deque[EditStep] = deque(maxlen=max(history, 100))
        self.redo_steps: list[EditStep] = []
        self._stroke_box: Box | None = None
        self._stroke_before: np.ndarray | None = None
        self._saved = np.zeros((0, 0), bool)
        self._stroke_label = ""
        self.revision = 0  # bumps on every change (journaling watches it)
        self._digest: tuple[int, str] | None = None  # (revision, digest of the mask then)

    @classmethod
    def adopt(cls, probability: np.ndarray, threshold: float) -> EditableMask:
        """The model's prediction at ``threshold`` (0..1) as an editable mask."""
        states = (probability >= probability_to_level(threshold)).astype(np.uint8) * np.uint8(MaskState.MODEL)
        return cls(states)

    @property
    def shape(self) -> tuple[int, int]:
        return self.states.shape

    def mask(self) -> np.ndarray:
        """H x W bool lesion mask."""
        return is_lesion(self.states)

    def digest(self) -> str:
        """A short digest of :meth:`mask`'s pixels (H x W bool), computed once per revision."""
        if self._digest is None or self._digest[0] != self.revision:
            pixels = self.mask()
            data = np.packbits(pixels).tobytes() + str(pixels.shape).encode()
            self._digest = (self.revision, hashlib.blake2b(data, digest_size=12).hexdigest())
        return self._digest[1]

    def edited_pixels(self) -> int:
        """Pixels the reviewer added or removed."""
        return int(np.count_nonzero(is_edited(self.states)))

    # boxes --------------------------------------------------------------------------
    def _clip(self, y0: float, x0: float, y1: float, x1: float) -> Box | None:
        height, width = self.shape
        box = (max(0, int(y0)), max(0, int(x0)), min(height, int(np.ceil(y1))), min(width, int(np.ceil(x1))))
        return box if box[0] < box[2] and box[1] < box[3] else None

    @staticmethod
    def _union(a: Box | None, b: Box) -> Box:
        if a is None:
            return b
        return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])

    # strokes (one undo step from press to release) ----------------------------------
    def begin_stroke(self, label: str) -> None:
        """Start an edit made of several pieces (a brush drag); :meth:`end_stroke` closes it."""
        self.end_stroke()
        self._stroke_label = label
        self._stroke_box = None
        # Full-size scratch arrays are allocated lazily by the OS: only touched pages cost memory.
        self._stroke_before = np.empty_like(self.states)
        self._saved = np.zeros(self.shape, bool)

    @property
    def in_stroke(self) -> bool:
        return self._stroke_before is not None

    def _touch(self, box: Box) -> None:
        """Remember the pixels of ``box`` before the stroke first changes them."""
        y0, x0, y1, x1 = box
        assert self._stroke_before is not None, "_touch outside a stroke"
        fresh = ~self._saved[y0:y1, x0:x1]
        self._stroke_before[y0:y1, x0:x1][fresh] = self.states[y0:y1, x0:x1][fresh]
        self._saved[y0:y1, x0:x1] = True
        self._stroke_box = self._union(self._stroke_box, box)

    def end_stroke(self) -> Box | None:
        """Close the current stroke as one undo step; returns the rectangle it changed."""
        box, before = self._stroke_box, self._stroke_before
        self._stroke_box, self._stroke_before = None, None
        if box is None or before is None:
            return None
        y0, x0, y1, x1 = box
        old = np.where(self._saved[y0:y1, x0:x1], before[y0:y1, x0:x1], self.states[y0:y1, x0:x1])
        new = self.states[y0:y1, x0:x1]
        if np.array_equal(old, new):
            return None
        self.undo_steps.append(EditStep(box, _pack(old), _pack(new), self._stroke_label))
        self.redo_steps.clear()
        return box

    def _apply_table(self, region: np.ndarray, box: Box, table: np.ndarray) -> Box | None:
        """Map the states under ``region`` (bool, box-sized) through ``table``."""
        if not region.any():
            return None
        single = not self.in_stroke
        if single:
            self.begin_stroke("edit")
        self._touch(box)
        y0, x0, y1, x1 = box
        patch = self.states[y0:y1, x0:x1]
        np.copyto(patch, cv2.LUT(patch, table), where=region)
        self.revision += 1
        if single:
            self.end_stroke()
        return box

    def _segment_region(
        self, start: tuple[float, float], end: tuple[float, float], radius: float
    ) -> tuple[np.ndarray | None, Box | None]:
        (ya, xa), (yb, xb) = start, end
        box = self._clip(
            min(ya, yb) - radius - 1,
            min(xa, xb) - radius - 1,
            max(ya, yb) + radius + 2,
            max(xa, xb) + radius + 2,
        )
        if box is None:
            return None, None
        y0, x0, y1, x1 = box
        region = np.zeros((y1 - y0, x1 - x0), np.uint8)
        points = ((round(xa - x0), round(ya - y0)), (round(xb - x0), round(yb - y0)))
        thickness = max(1, round(2 * radius))
        cv2.line(region, points[0], points[1], 1, thickness=thickness, lineType=cv2.LINE_8)
        cv2.circle(region, points[0], round(radius), 1, thickness=-1)
        cv2.circle(region, points[1], round(radius), 1, thickness=-1)
        return region.astype(bool), box

    def brush(
        self, start: tuple[float, float], end: tuple[float, float], radius: float, erase: bool = False
    ) -> Box | None:
        """Paint (or erase) a round-tipped segment from ``start`` to ``end`` (y, x).

        Returns the rectangle changed, or None.
        """
        region, box = self._segment_region(start, end, radius)
        if region is None or box is None:
            return None
        return self._apply_table(region, box, ERASE_TABLE if erase else PAINT_TABLE)

    def fill_polygon(self, points: Sequence[tuple[float, float]], erase: bool = False) -> Box | None:
        """Fill (or erase) the inside of a lasso given as (y, x) points; one undo step."""
        if len(points) < 3:
            return None
        ys, xs = [p[0] for p in points], [p[1] for p in points]
        box = self._clip(min(ys), min(xs), max(ys) + 1, max(xs) + 1)
        if box is None:
            return None
        y0, x0, y1, x1 = box
        region = np.zeros((y1 - y0, x1 - x0), np.uint8)
        polygon = np.array([[round(x - x0), round(y - y0)] for y, x in points], np.int32)
        cv2.fillPoly(region, [polygon], 1)
        self.begin_stroke("lasso erase" if erase else "lasso fill")
        changed = self._apply_table(region.astype(bool), box, ERASE_TABLE if erase else PAINT_TABLE)
        self.end_stroke()
        return changed

    def component_at(self, y: int, x: int) -> tuple[np.ndarray, Box] | None:
        """The 8-connected lesion component under (y, x): (box-sized bool region, box), or None."""
        height, width = self.shape
        if not (0 <= y < height and 0 <= x < width) or not is_lesion(self.states[y : y + 1, x : x + 1])[0, 0]:
            return None
        lesion = is_lesion(self.states).astype(np.uint8)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(lesion, connectivity=8)
        label = labels[y, x]
        left, top, w, h = (int(v) for v in stats[label, :4])
        box = (top, left, top + h, left + w)
        return labels[top : top + h, left : left + w] == label, box

    def set_component(self, y: int, x: int, keep: bool) -> Box | None:
        """Keep (confirm) or delete the lesion component under (y, x); one undo step."""
        found = self.component_at(y, x)
        if found is None:
            return None
        region, box = found
        self.begin_stroke("keep component" if keep else "delete component")
        changed = self._apply_table(region, box, KEEP_TABLE if keep else ERASE_TABLE)
        self.end_stroke()
        return changed

    def replace(self, states: np.ndarray, label: str) -> Box:
        """Replace every pixel (e.g. adopting the prediction again); one undo step."""
        self.begin_stroke(label)
        self._touch((0, 0, *self.shape))
        np.copyto(self.states, states)
        self.revision += 1
        return self.end_stroke() or (0, 0, *self.shape)

    # history ------------------------------------------------------------------------
    def _step(
        self,
        source: list[EditStep] | deque[EditStep],
        target: list[EditStep] | deque[EditStep],
        forward: bool,
    ) -> Box | None:
        self.end_stroke()
        if not source:
            return None
        step = source.pop()
        y0, x0, y1, x1 = step.box
        self.states[y0:y1, x0:x1] = _unpack(step.after if forward else step.before, step.box)
        target.append(step)
        self.revision += 1
        return step.box

    def undo(self) -> Box | None:
        """Undo the last edit; returns the rectangle to redraw."""
        return self._step(self.undo_steps, self.redo_steps, forward=False)

    def redo(self) -> Box | None:
        """Redo the last undone edit; returns the rectangle to redraw."""
        return self._step(self.redo_steps, self.undo_steps, forward=True)
