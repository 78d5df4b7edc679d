"""The Wengert list of a gradient computation, drawn as SVG by nablisp itself.

A tape is already in topological order (an entry only refers to older entries), so a layered
drawing needs no graph search: an entry's layer is one more than the highest layer of its
parents (inputs on layer 0), computed in one pass over the tape.  Within a layer, entries are
ordered by the mean position of their parents (the barycentre heuristic, one sweep upwards),
which keeps most edges from crossing for the small programs one draws.  Inputs are at the
bottom and the output at the top, as the computation flows; each box shows the entry's
operation, its value and its adjoint v̄, each edge the local partial ∂child/∂parent.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .tags import DifferentiationError, Tracked

MAX_DRAWN_ENTRIES = 2000    # beyond this an SVG is too big to read or for a browser to show

CHAR_WIDTH = 7.3            # of 12px monospace text
LINE_HEIGHT = 15
BOX_HEIGHT = 3 * LINE_HEIGHT + 10
LAYER_GAP = 56
BOX_GAP = 24
MARGIN = 16


def layers_of(notes, entries) -> list[int]:
    layer = []
    for node, (operation, _, _) in enumerate(notes):
        entry = entries[node]
        parents = [entry[k] for k in range(0, len(entry), 2)]
        layer.append(0 if operation == "input" or not parents else 1 + max(layer[p] for p in parents))
    return layer


def order_within_layers(layer, entries) -> list[list[int]]:
    rows: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for node, depth in enumerate(layer):
        rows[depth].append(node)
    position: dict[int, float] = {}
    for row in rows:
        def barycentre(node):
            entry = entries[node]
            parents = [entry[k] for k in range(0, len(entry), 2)]
            return (sum(position[p] for p in parents) / len(parents)) if parents else node
        row.sort(key=lambda node: (barycentre(node), node))
        for index, node in enumerate(row):
            position[node] = index - (len(row) - 1) / 2
    return rows


def tape_svg(recording, show) -> str:
    """SVG text of ``recording`` (an ad.teaching.Recording); ``show`` formats a number."""
    notes, entries = recording.tape.notes, recording.tape.entries
    if len(notes) > MAX_DRAWN_ENTRIES:
        raise DifferentiationError(
            f"{recording.who}: the tape has {len(notes)} entries, too many to draw (at most "
            f"{MAX_DRAWN_ENTRIES}); tape->text lists them")
    output = recording.output
    output_node = output.node if output.__class__ is Tracked and output.tag is recording.tag else None

    labels = []
    for node, (operation, value, _) in enumerate(notes):
        title = f"v{node} = input" if operation == "input" else f"v{node} = {operation}"
        labels.append((title, f"value {show(value)}", f"v̄ {show(recording.adjoint(node))}"))
    widest = max((len(line) for label in labels for line in label), default=8)
    box_width = widest * CHAR_WIDTH + 16

    rows = order_within_layers(layers_of(notes, entries), entries)
    widest_row = max((len(row) for row in rows), default=0)
    heading = f"{recording.who}: {len(notes)} tape entries; v̄ = ∂output/∂v"
    width = max(widest_row * box_width + (widest_row - 1) * BOX_GAP, len(heading) * CHAR_WIDTH) + 2 * MARGIN
    height = len(rows) * BOX_HEIGHT + max(len(rows) - 1, 0) * LAYER_GAP + 2 * MARGIN + LINE_HEIGHT
    centre: dict[int, tuple[float, float]] = {}
    for depth, row in enumerate(rows):
        row_width = len(row) * box_width + (len(row) - 1) * BOX_GAP
        left = (width - row_width) / 2
        y = height - MARGIN - depth * (BOX_HEIGHT + LAYER_GAP) - BOX_HEIGHT / 2
        for index, node in enumerate(row):
            centre[node] = (left + index * (box_width + BOX_GAP) + box_width / 2, y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
        f'<text x="{MARGIN}" y="{MARGIN}" fill="#555">{escape(heading)}</text>',
    ]
    for node, entry in enumerate(entries):
        child_x, child_y = centre[node]
        for k in range(0, len(entry), 2):
            parent, partial = entry[k], entry[k + 1]
            parent_x, parent_y = centre[parent]
            x1, y1 = parent_x, parent_y - BOX_HEIGHT / 2
            x2, y2 = child_x, child_y + BOX_HEIGHT / 2
            # the label sits in the gap just below the child, where no box can hide it, even
            # on an edge that spans several layers
            label_y = y2 + LAYER_GAP / 2
            label_x = x2 + (x1 - x2) * (label_y - y2) / (y1 - y2)
            # the label goes on the side the edge comes from, so two edges into one box keep
            # their labels apart
            on_left = x1 < x2 - 0.5 or (abs(x1 - x2) <= 0.5 and k == 0 and len(entry) > 2)
            anchor, label_x = ("end", label_x - 4) if on_left else ("start", label_x + 4)
            parts.append(
                f'<g class="edge"><title>v{parent} → v{node}</title>'
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
                f'marker-end="url(#arrow)"/>'
                f'<text x="{label_x:.1f}" y="{label_y + 4:.1f}" text-anchor="{anchor}" fill="#a33" stroke="white" '
                f'stroke-width="3" paint-order="stroke">'
                f'{escape(show(partial))}</text></g>')
    for node, (operation, _, _) in enumerate(notes):
        x, y = centre[node]
        is_input = operation == "input"
        stroke = 2.5 if node == output_node else 1
        fill = "#eef5ff" if is_input else ("#fff4e0" if node == output_node else "#ffffff")
        parts.append(
            f'<g class="node" id="v{node}"><title>v{node}</title>'
            f'<rect x="{x - box_width / 2:.1f}" y="{y - BOX_HEIGHT / 2:.1f}" width="{box_width:.1f}" '
            f'height="{BOX_HEIGHT}" rx="{BOX_HEIGHT / 2 if is_input else 4}" fill="{fill}" '
            f'stroke="#222" stroke-width="{stroke}"/>')
        for line_number, line in enumerate(labels[node]):
            baseline = y - BOX_HEIGHT / 2 + 5 + LINE_HEIGHT * (line_number + 1) - 3
            weight = ' font-weight="bold"' if line_number == 0 else ""
            parts.append(f'<text x="{x:.1f}" y="{baseline:.1f}" text-anchor="middle"{weight}>'
                         f'{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
