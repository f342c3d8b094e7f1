"""MkDocs hook: fills the zoo catalogue page from gaba.zoo.info, so the
figures in the docs are always those of the installed build."""


def _shape(spec):
    dtype = "" if spec["dtype"] == "float32" else f" {spec['dtype']}"
    return "×".join(str(d) for d in spec["shape"]) + dtype


def _catalogue():
    from gaba import zoo

    lines = []
    for category in ("vision", "audio", "sensor", "reference"):
        lines += [f"## {category}", "",
                  "| model | modality | task | inputs | outputs | params (budget) | MACs "
                  "| weights KB | arena KB |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name in zoo.names(category):
            i = zoo.info(name)
            ins = "<br>".join(f"{k}: {_shape(v)}" for k, v in i["inputs"].items())
            outs = "<br>".join(f"{k}: {_shape(v)}" for k, v in i["outputs"].items())
            budget = f" ({i['budget_params'] / 1e3:.0f}K)" if i.get("budget_params") else ""
            lines.append(f"| {name} | {i['modality']} | {i['task']} | {ins} | {outs} "
                         f"| {i['params']:,}{budget} | {i['macs']:,} "
                         f"| {i['weight_bytes'] / 1024:.1f} | {i['arena_bytes'] / 1024:.1f} |")
        lines.append("")
    return "\n".join(lines)


def on_page_markdown(markdown, page, **kwargs):
    if "{{ zoo_catalogue }}" in markdown:
        return markdown.replace("{{ zoo_catalogue }}", _catalogue())
    return markdown
