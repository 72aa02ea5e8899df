"""Plain-text formatting of the CLI's tables: values, and docstrings without reST markup."""

from __future__ import annotations

import inspect
import re
from typing import Any

#: LaTeX commands of the docstrings' formulas and their plain-text (Unicode) form.
_LATEX = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "varepsilon": "ε", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Sigma": "Σ", "Omega": "Ω", "Delta": "Δ", "sum": "Σ",
    "cdot": "·", "times": "×", "in": "∈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "approx": "≈", "infty": "∞", "to": "→", "odot": "⊙", "oplus": "⊕", "lVert": "‖",
    "rVert": "‖", "log": "log", "exp": "exp",
}  # fmt: skip
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]*)`")
_ACCENT = re.compile(r"\\(hat|tilde|bar)\s*(?:\{([^{}]*)\}|(\w))")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}


def fmt(value: Any) -> str:
    """A parameter value as the tables show it (large ints with thousands separators)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    return str(value)


def plain(text: str) -> str:
    """``text`` without reStructuredText markup: roles (``:class:`~a.B``` → ``B``,
    ``:math:`\\mu``` → ``μ``), ````literals```` and escaped spaces."""
    text = text.replace("\\ ", "")
    return _ROLE.sub(_role, text).replace("``", "")


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph of ``text``, on one line."""
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    return _SENTENCE_END.split(paragraph, 1)[0]


def description(entry: Any) -> str:
    """A registry entry's one-sentence description in plain text.

    ``entry.summary`` is the registered summary; when it is empty or cut mid-sentence (a
    docstring's first line), the first sentence of the docstring of ``entry.factory`` (a
    class, imported only then) is used. A sentence that a formula block interrupts ends
    where the block starts.
    """
    text = entry.summary.strip()
    if not text.endswith((".", "!", "?")):
        factory = entry.factory
        doc = (inspect.getdoc(factory) or "") if inspect.isclass(factory) else ""
        if " ".join(doc.split()).startswith(" ".join(text.split())):
            text = doc
    sentence = first_sentence(text)
    if sentence and not sentence.endswith((".", "!", "?")):
        sentence = sentence.rstrip(",;: ") + "."
    return plain(sentence)


def _role(match: re.Match[str]) -> str:
    """A role's plain text: a formula in Unicode, ``x^sup``, a cross-reference's shown
    text (``~a.b.C`` → ``C``, otherwise the target as written)."""
    role, target = match.group(0).split("`", 1)[0], match.group(1)
    if role == ":math:":
        return _math(target)
    if role == ":sup:":
        return "^" + target
    tilde = match.group(0)[len(role) + 1 :].startswith("~")
    return target.rsplit(".", 1)[-1] if tilde else target


def _math(formula: str) -> str:
    """A LaTeX formula in plain text: ``\\hat r_{ui} = \\mu + b_u`` → ``r̂_ui = μ + b_u``."""
    formula = _ACCENT.sub(lambda m: (m.group(2) or m.group(3)) + _ACCENTS[m.group(1)], formula)
    formula = re.sub(r"\\(?:mathrm|mathcal|operatorname|text|mathbf)\s*", "", formula)
    formula = _COMMAND.sub(lambda m: _LATEX.get(m.group(1), m.group(1)), formula)
    return formula.replace("{", "").replace("}", "")
