"""A site's word on automated agents: /agents.txt, /llms.txt, robots.txt and X-Robots-Tag.

Each source is summarised as ``allowed``, ``disallowed`` or ``not_stated`` with the lines it
was read from, and the site's summary is the strictest of them. robots.txt (and an
agents.txt written in its syntax) is read with protego, which follows RFC 9309 (longest
match wins, ``*`` and ``$`` wildcards) where the stdlib's robotparser takes the first match
and ignores wildcards.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

__all__ = ["AI_AGENTS", "robots_policy", "site_policy", "text_policy", "x_robots_policy"]

# Product tokens of AI agents and crawlers that sites address in robots.txt; link-cli sends
# no User-Agent, so rules for any of them (or for every robot) are taken to mean it too.
AI_AGENTS = (
    "link-cli", "GPTBot", "ChatGPT-User", "OAI-SearchBot", "ClaudeBot", "Claude-User",
    "Claude-SearchBot", "anthropic-ai", "PerplexityBot", "Perplexity-User", "Google-Extended",
    "Applebot-Extended", "CCBot", "Bytespider", "Amazonbot", "meta-externalagent", "cohere-ai",
)  # fmt: skip
_AGENT_WORDS = ("agent", "bot", "automat", "ai ", "llm", "crawler", "scrap")
_DENY_WORDS = ("disallow", "not allowed", "prohibit", "forbid", "do not", "must not", "may not", "not permitted", "no ai")  # fmt: skip
_ALLOW_WORDS = ("allowed", "welcome", "permitted", "may ", "can ", "allow:")
_MAX_QUOTED = 8
_LINE_LIMIT = 200
ALLOWED, DISALLOWED, NOT_STATED = "allowed", "disallowed", "not_stated"


def _lines(text: str) -> list[str]:
    return [line.strip()[:_LINE_LIMIT] for line in text.splitlines() if line.strip()]


def _groups(text: str) -> list[tuple[list[str], list[str]]]:
    """robots.txt groups: (user-agent lines, the lines of the group), for quoting."""
    groups: list[tuple[list[str], list[str]]] = []
    agents: list[str] = []
    body: list[str] = []
    for line in _lines(text):
        key = line.split(":", 1)[0].strip().lower()
        if key == "user-agent":
            if body:
                groups.append((agents, body))
                agents, body = [], []
            agents.append(line)
        elif key in ("allow", "disallow") and agents:
            body.append(line)
    if agents:
        groups.append((agents, body))
    return groups


def _agent_of(line: str) -> str:
    return line.split(":", 1)[1].split("#", 1)[0].strip().lower()


def robots_policy(text: str, url: str, source: str) -> dict[str, Any]:
    """What robots-syntax rules in `text` say about AI agents fetching `url`."""
    from protego import Protego

    groups = _groups(text)
    if not groups:
        return {"source": source, "status": NOT_STATED, "lines": _lines(text)[:_MAX_QUOTED]}
    parsed = Protego.parse(text)
    target = url or "/"
    named = {a.lower() for a in AI_AGENTS}
    quoted: list[str] = []
    specific = [
        (agents, body) for agents, body in groups if any(_agent_of(a) in named for a in agents)
    ]
    general = [
        (agents, body) for agents, body in groups if any(_agent_of(a) == "*" for a in agents)
    ]
    for agents, body in specific or general:
        quoted += agents + body
    if not specific and not general:
        return {"source": source, "status": NOT_STATED, "lines": []}
    tokens = [
        a for a in AI_AGENTS if any(_agent_of(line) == a.lower() for g in specific for line in g[0])
    ] or ["link-cli"]
    blocked = [a for a in tokens if not parsed.can_fetch(target, a)]
    status = DISALLOWED if blocked else ALLOWED
    result: dict[str, Any] = {"source": source, "status": status, "lines": quoted[:_MAX_QUOTED]}
    if blocked and specific:
        result["agents"] = blocked
    return result


def text_policy(text: str, source: str) -> dict[str, Any]:
    """A free-text policy (llms.txt, or an agents.txt in prose): the lines about agents.

    Only a plain statement counts: a line about agents with a refusal is ``disallowed``, one
    with a permission ``allowed``; anything else is left for the agent to read.
    """
    about = [line for line in _lines(text) if any(w in f" {line.lower()} " for w in _AGENT_WORDS)]
    denied = [line for line in about if any(w in line.lower() for w in _DENY_WORDS)]
    allowed = [line for line in about if any(w in line.lower() for w in _ALLOW_WORDS)]
    if denied:
        return {"source": source, "status": DISALLOWED, "lines": denied[:_MAX_QUOTED]}
    if allowed:
        return {"source": source, "status": ALLOWED, "lines": allowed[:_MAX_QUOTED]}
    return {"source": source, "status": NOT_STATED, "lines": about[:_MAX_QUOTED]}


def x_robots_policy(values: list[str], source: str = "X-Robots-Tag") -> dict[str, Any] | None:
    """``noai`` (or ``none``/``noindex`` addressed to an AI agent) opts the page out."""
    if not values:
        return None
    named = {a.lower() for a in AI_AGENTS}
    denied = []
    for value in values:
        agent, colon, rules = value.partition(":")
        scoped = bool(colon) and agent.strip().lower() in named
        words = {w.strip().lower() for w in (rules if scoped else value).split(",")}
        if "noai" in words or (scoped and words & {"none", "noindex", "nofollow"}):
            denied.append(value.strip()[:_LINE_LIMIT])
    status = DISALLOWED if denied else NOT_STATED
    return {
        "source": source,
        "status": status,
        "lines": denied or [v[:_LINE_LIMIT] for v in values],
    }


def site_policy(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """The strictest of the sources' statuses, with every source as read."""
    statuses = {s["status"] for s in sources}
    summary = (
        DISALLOWED if DISALLOWED in statuses else ALLOWED if ALLOWED in statuses else NOT_STATED
    )
    return {"summary": summary, "sources": sources}


def path_of(url: str) -> str:
    """The path and query robots rules are matched against."""
    parts = urllib.parse.urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
