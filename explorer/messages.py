"""Messages: the one shape of text that a pure module hands to a person, and the one way to word it.

A `Message` is a code plus values; its English template is declared by the module that raises it
(`define({...})`), its Chinese template lives in one table (`explorer/locale_zh.py`). `Refusal` is the one
exception for refused input: str() is the English message (what the public API answers), `.message` keeps the
code and values so a UI can word it in the page's language with `word(error, lang)`. A value may itself be a
Message (e.g. the name of a field), which is worded in the same language.

    define({"seed.range": "{field} must be between {low} and {high}; got {value}"})
    raise Refusal("seed.range", field=Message("field.seed"), low=0, high=9, value=12)
    word(error, "zh")  ->  "种子必须在 0 到 9 之间；收到 12"

Every defined code must have a Chinese template (tests/test_messages.py checks the table is complete).
"""
from __future__ import annotations

from typing import Any, Iterable

LANGUAGES = ("en", "zh")
ENGLISH: dict[str, str] = {}


def define(templates: dict[str, str]) -> None:
    """Register English templates by code; the same code defined twice with different text is a bug."""
    for code, template in templates.items():
        if ENGLISH.get(code, template) != template:
            raise ValueError(f"message code {code!r} defined twice with different text")
        ENGLISH[code] = template


def normalise_lang(lang: Any) -> str:
    """"zh", "zh-CN", "zh-Hans" ... -> "zh"; anything else (None included) -> "en"."""
    return "zh" if isinstance(lang, str) and lang.strip().lower().startswith("zh") else "en"


class Message:
    """A code and its values. str() is the English text; `word(message, "zh")` the Chinese one.
    Equal when code and values are equal; pickles (ZeroGPU workers send results back pickled)."""

    __slots__ = ("code", "values")

    def __init__(self, code: str, /, **values: Any):
        if code not in ENGLISH:
            raise KeyError(f"message code {code!r} has no English template (define it first)")
        self.code, self.values = code, dict(values)

    def word(self, lang: str = "en") -> str:
        """This message in `lang` ("en" or "zh"; other values fall back as in normalise_lang)."""
        lang = normalise_lang(lang)
        template = _template(self.code, lang)
        return template.format(**{k: _word_value(v, lang) for k, v in self.values.items()})

    def __str__(self) -> str:
        return self.word("en")

    def __repr__(self) -> str:
        return f"Message({self.code!r}, **{self.values!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Message) and (self.code, self.values) == (other.code, other.values)

    def __hash__(self) -> int:
        return hash(self.code)

    def __reduce__(self):
        return _message, (self.code, self.values)


def _message(code: str, values: dict) -> Message:
    return Message(code, **values)


class Joined:
    """Several messages shown as one, joined by "; " (English) or "；" (Chinese)."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Any]):
        self.parts = tuple(parts)

    def word(self, lang: str = "en") -> str:
        lang = normalise_lang(lang)
        return ("；" if lang == "zh" else "; ").join(_word_value(p, lang) for p in self.parts)

    def __str__(self) -> str:
        return self.word("en")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Joined) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __reduce__(self):
        return Joined, (self.parts,)


class Refusal(ValueError):
    """Refused input. `Refusal(code, **values)`; str() is the English message, `.message` the Message,
    `.code` and `.values` its parts. A ValueError, so callers that catch ValueError keep working."""

    def __init__(self, code_or_message: str | Message | Joined, /, **values: Any):
        message = code_or_message if isinstance(code_or_message, (Message, Joined)) else Message(code_or_message,
                                                                                                  **values)
        super().__init__(str(message))
        self.message = message

    @property
    def code(self) -> str | None:
        return getattr(self.message, "code", None)

    @property
    def values(self) -> dict:
        return dict(getattr(self.message, "values", {}))

    def word(self, lang: str = "en") -> str:
        return self.message.word(lang)

    def __reduce__(self):
        return type(self), (self.message,)


def word(item: Any, lang: str = "en") -> str:
    """Any message-like thing in `lang`: a Message, Joined or Refusal is worded; another exception gives its
    str(); anything else str(item)."""
    return _word_value(item, normalise_lang(lang))


def _word_value(value: Any, lang: str) -> str:
    if isinstance(value, (Message, Joined, Refusal)):
        return value.word(lang)
    return value if isinstance(value, str) else str(value)


def _template(code: str, lang: str) -> str:
    if lang == "zh":
        from .locale_zh import ZH

        if code in ZH:
            return ZH[code]
    return ENGLISH[code]


def missing_translations() -> list[str]:
    """Codes defined in English that the Chinese table lacks (the completeness test wants none)."""
    from .locale_zh import ZH

    return sorted(code for code in ENGLISH if code not in ZH)
