"""The /report picture: takings per day as bars, the success rate as a line over them.

matplotlib draws it through its Agg backend (`Figure` and `FigureCanvasAgg` directly, no pyplot:
no global state, no GUI, safe off the event loop's thread). It is imported inside the function:
importing it costs a few hundred milliseconds, which nobody but /report should pay.
"""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChartDay:
    label: str  # the day as the reader writes it ("2 Des")
    takings: int
    success_rate: float | None  # None on a day with nothing decided


@dataclass(frozen=True, slots=True)
class ChartWords:
    title: str
    takings: str  # the bars' axis
    success_rate: str  # the line's axis


def takings_chart_png(days: list[ChartDay], words: ChartWords) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    figure = Figure(figsize=(10, 5), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    bars = figure.add_subplot()
    labels = [d.label for d in days]
    positions = list(range(len(days)))
    bars.bar(positions, [d.takings for d in days], color="#2e7d32", label=words.takings)
    bars.set_ylabel(words.takings)
    bars.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    step = max(1, len(days) // 10)  # at most ~10 day labels, whatever the range
    bars.set_xticks(positions[::step], labels[::step])
    bars.set_title(words.title)
    line = bars.twinx()
    rates = [d.success_rate * 100 if d.success_rate is not None else float("nan") for d in days]
    line.plot(positions, rates, color="#f57c00", marker="o", label=words.success_rate)
    line.set_ylim(0, 105)
    line.yaxis.set_major_formatter(PercentFormatter())
    line.set_ylabel(words.success_rate)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
