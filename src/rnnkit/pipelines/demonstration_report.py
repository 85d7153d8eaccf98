"""The report of :func:`~rnnkit.pipelines.demonstration.run_demonstration`: its summary's
tables as markdown (``summary.md``), and the task's length as the titles and tables name it."""

from __future__ import annotations

from typing import Any

from rnnkit.data.synthetic import COPY_LENGTH
from rnnkit.training.diagnostics import GradientFlow, flow_table


def task_length_text(task: str, length: int) -> str:
    """The length as the task reads it: the adding task's sequence length, the copy task's
    blanks between its symbols and their recall (its sequences are 20 steps longer)."""
    if task == "copy":
        return f"delay {length} ({length + 2 * COPY_LENGTH} steps)"
    return f"length {length}"


def summary_markdown(summary: dict[str, Any], flows: dict[str, list[GradientFlow]]) -> str:
    """The tables of the run as markdown."""
    settings = ", ".join(f"{k} {v}" for k, v in summary["settings"].items())
    span = task_length_text(summary["task"], summary["length"])
    lines = [f"# Vanishing and exploding gradients: {summary['task']}, {span}", "",
             f"Settings: {settings}.", ""]
    for panel, items in flows.items():
        lines += [f"## ‖dL/dh_t‖ {panel} (log10: orders of magnitude, last step to first)",
                  "", flow_table(items), ""]
    lines += ["## Sigmoid gates after training (share saturated: below 0.1 or above 0.9)", "",
              "| cell | gate | mean | saturated |", "|---|---|---|---|"]
    for flow in flows["after training"]:
        for gate, stats in (flow.gates[0][0] if flow.gates else {}).items():
            mean, saturated = stats["mean"], stats["saturated"]
            lines.append(f"| {flow.name} | {gate} | {mean:.3f} | {saturated:.3f} |")
    lines += ["", f"## Test results (baseline {summary['baseline']:.4g}:"
              f" {summary['baseline_name']}; solved: {summary['solved_rule']})", "",
              "| cell | test loss | loss / baseline | accuracy | solved | steps | seconds |",
              "|---|---|---|---|---|---|---|"]
    for cell, r in summary["results"].items():
        accuracy = "-" if r["test_accuracy"] is None else f"{r['test_accuracy']:.3f}"
        lines.append(f"| {cell} | {r['test_loss']:.4g} | {r['loss_vs_baseline']:.3f} | {accuracy}"
                     f" | {'yes' if r['solved'] else 'no'} | {r['steps']} | {r['seconds']} |")
    explode = summary["exploding"]
    settings = ", ".join(f"{k} {v}" for k, v in explode["settings"].items())
    lines += ["", f"## Exploding gradients ({settings})", "",
              "| run | steps run | diverged at step | max ‖grad‖ | final loss |",
              "|---|---|---|---|---|"]
    for label, r in explode["runs"].items():
        final = "NaN/inf" if r["final_loss"] is None or r["diverged"] else f"{r['final_loss']:.4g}"
        lines.append(f"| {label} | {r['steps_run']} | {r['diverged_at_step'] or '-'} |"
                     f" {r['max_grad_norm']:.3g} | {final} |")
    lines += ["", "## Claims", ""] + [f"- {k}: {v}" for k, v in summary["claims"].items()]
    lines += ["", f"Wall time: {summary['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"
