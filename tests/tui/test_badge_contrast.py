"""Stage badges readable everywhere: 256/true colour, 16 colours and NO_COLOR, cursor row too."""

from __future__ import annotations

import pytest
from rich.color import ColorSystem
from rich.terminal_theme import DEFAULT_TERMINAL_THEME

from tests.tui.conftest import make_app, settle

LABELS = ("prod", "stg", "champion", "production", "staging")


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(style, system: ColorSystem | None) -> float:
    """The WCAG contrast ratio of a segment's text against its own background."""
    def rgb(color):
        if system is not None:
            color = color.downgrade(system)
        triplet = color.get_truecolor(DEFAULT_TERMINAL_THEME, foreground=True)
        return triplet.red, triplet.green, triplet.blue
    high, low = sorted((luminance(rgb(style.color)), luminance(rgb(style.bgcolor))), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("mode", ["truecolor", "16", "NO_COLOR"])
async def test_every_stage_badge_has_readable_contrast(tui_catalog, monkeypatch, mode) -> None:
    if mode == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    system = ColorSystem.STANDARD if mode == "16" else None
    tui_catalog.promote("fraud@3", "champion", reason="best f1")
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # the cursor row holds prod+champion
        await pilot.pause(0.3)
        await settle(pilot)
        filters = app.get_line_filters()
        seen = set()
        for strip in app.screen._compositor.render_strips():
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, app.screen.styles.background)
            for segment in strip:
                label = segment.text.strip()
                if label in LABELS and segment.style is not None:
                    seen.add(label)
                    assert segment.style.color is not None and segment.style.bgcolor is not None
                    ratio = contrast(segment.style, system)
                    assert ratio >= 4.5, (label, str(segment.style), ratio)
        assert {"prod", "champion", "production"} <= seen
