"""Reading profile TOML files: bundled names, JSON Schema validation (Draft 7), cross-item rules, one-line errors."""

from __future__ import annotations

import copy
import functools
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from .model import Profile, ProfileError

_SOURCE_TREE_PROFILES = Path(__file__).resolve().parents[2] / "profiles"
_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a table",
}


def bundled_dir() -> Path:
    """The bundled profiles: the repository's ``profiles/`` in a source tree, else the installed copy."""
    if (_SOURCE_TREE_PROFILES / "upper.toml").is_file():
        return _SOURCE_TREE_PROFILES
    return Path(str(resources.files("conformance") / "bundled" / "profiles"))


def bundled_profiles() -> list[str]:
    """Names of the bundled profiles (``load_profile`` accepts each)."""
    return sorted(p.stem for p in bundled_dir().glob("*.toml"))


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(resources.files(__package__).joinpath("profile.schema.json").read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def resolve(path_or_name: str) -> Path:
    """A profile file from a path, or from a bundled name such as ``upper``."""
    path = Path(path_or_name)
    if path.suffix == ".toml" or path.is_file() or "/" in path_or_name:
        return path
    bundled = bundled_dir() / f"{path_or_name}.toml"
    if not bundled.is_file():
        known = ", ".join(bundled_profiles())
        raise ProfileError(path_or_name, "", f"no such profile file or bundled profile (bundled: {known})")
    return bundled


def load_profile(path_or_name: str) -> Profile:
    """Load, validate and complete a profile; raises ProfileError naming the file and the item."""
    path = resolve(str(path_or_name))
    source = str(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ProfileError(source, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(source, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"not valid TOML: {exc}") from None
    return profile_from_data(data, source, path)


def profile_from_data(data: dict[str, Any], source: str, path: Path | None = None) -> Profile:
    """Validate parsed profile data (schema, then the rules between items) and build the Profile."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        item, detail = _describe(errors[0])
        raise ProfileError(source, item, detail)
    profile = Profile.build(data, path)
    _check_rules(profile, source)
    return profile


def with_pixit(profile: Profile, source: str | None = None, **items: Any) -> Profile:
    """The profile with PIXIT items replaced (e.g. ``iut`` from ``--iut``), validated again; ``source`` names
    where the new values come from in errors (default: the profile file)."""
    data = copy.deepcopy(dict(profile.data))
    data["pixit"] = {**data["pixit"], **items}
    return profile_from_data(data, source or str(profile.path or profile.name), profile.path)


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(dotted item, short detail) for one schema error."""
    item = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    got = json.dumps(error.instance, ensure_ascii=False, default=str)
    if len(got) > 60:
        got = got[:57] + "..."
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        return _join(item, missing), "missing (required)"
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - allowed)
        return _join(item, unknown[0]), f"unknown item (known: {', '.join(sorted(allowed))})"
    if kind == "type":
        return item, f"expected {_TYPE_WORDS.get(error.validator_value, error.validator_value)}, got {got}"
    if kind == "enum":
        options = ", ".join(json.dumps(v) for v in error.validator_value)
        return item, f"expected one of {options}, got {got}"
    if kind in ("minimum", "exclusiveMinimum", "maximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}[kind]
        return item, f"must be {op} {error.validator_value}, got {got}"
    if kind == "minLength":
        return item, "must not be empty"
    if kind == "pattern" and item.endswith("_hex"):
        return item, "must be an even number of hexadecimal digits (the key is not shown)"
    if kind == "minItems":
        return item, f"needs at least {error.validator_value} item(s)"
    if kind == "uniqueItems":
        return item, f"has duplicate items: {got}"
    return item, error.message


def _join(item: str, name: str) -> str:
    return f"{item}.{name}" if item else name


def _check_rules(profile: Profile, source: str) -> None:
    """Rules between items that the schema cannot express (ICS-2, ICS-4, PIXIT addresses, ICS-11)."""
    pics, pixit, timing = profile.pics, profile.pixit, profile.timing
    role, mode, iut = profile.role, profile.mode, profile.iut
    has_lower = role in ("lower", "intermediate")
    if has_lower:
        if not pics["lower_modes"]:
            raise ProfileError(
                source, "pics.lower_modes", f"missing: a {role} IUT implements pull, push or both"
            )
        if mode is None:
            raise ProfileError(source, "pixit.mode", f"missing: the registration mode of the {role} IUT")
        if mode not in pics["lower_modes"]:
            raise ProfileError(
                source, "pixit.mode", f"{mode!r} is not in pics.lower_modes {list(pics['lower_modes'])}"
            )
    elif mode is not None:
        raise ProfileError(
            source, "pixit.mode", "only for a lower or intermediate IUT (an upper EMA serves both)"
        )
    if iut == "external":
        if (role, mode) != ("lower", "pull"):
            raise ProfileError(source, "pixit.iut", '"external" is only for a pull-mode lower IUT')
    elif iut != "embedded":
        _check_uri(source, "pixit.iut", iut, pics["security"])
        if role == "lower" and mode == "pull":
            raise ProfileError(
                source, "pixit.iut", 'a pull-mode lower IUT serves no resources: use "external"'
            )
    peer = pixit["peer"]
    if peer is not None:
        port = _check_uri(source, "pixit.peer", peer, pics["security"])
        if port == 0 and not profile.embedded:
            raise ProfileError(source, "pixit.peer", 'port 0 is only allowed with iut = "embedded"')
    elif has_lower and not profile.embedded:
        raise ProfileError(
            source, "pixit.peer", "missing: the upper-EMA address the lower IUT is configured with"
        )
    if timing.backoff_cap_s < timing.backoff_initial_s:
        raise ProfileError(source, "pixit.timing.backoff_cap_s", "must be >= backoff_initial_s")
    _check_credentials(profile, source)
    stimulus = profile.stimulus
    if stimulus["kind"] == "command" and not stimulus["command"]:
        raise ProfileError(source, "stimulus.command", 'missing: required with kind = "command"')
    if stimulus["kind"] != "command" and stimulus["command"]:
        raise ProfileError(
            source, "stimulus.command", f'only used with kind = "command" (kind is {stimulus["kind"]!r})'
        )


def _check_credentials(profile: Profile, source: str) -> None:
    """``[pixit.credentials]`` (clause 8, ICS-4): a profile the PICS lists, complete credentials, and the IUT's
    and peer's URIs ``coaps`` exactly when the link is DTLS-PSK (EMAP-8-02: one profile per link)."""
    from conformance.security import CredentialsError, LinkSecurity

    item = "pixit.credentials"
    table = profile.credentials
    try:
        link = LinkSecurity.parse(table)
    except CredentialsError as exc:
        named, _, detail = str(exc).partition(": ")  # "pixit.credentials[.x]: what is wrong"
        raise ProfileError(source, named if named.startswith(item) else item, detail or str(exc)) from None
    if table is not None and link.profile not in profile.pics["security"]:
        raise ProfileError(source, f"{item}.profile",
                           f"{link.profile!r} is not in pics.security {list(profile.pics['security'])}")
    if table is None:
        return
    for uri_item in ("iut", "peer"):
        uri = profile.pixit[uri_item]
        if uri is None or uri in ("embedded", "external"):
            continue
        if uri.startswith("coaps:") != link.dtls:
            want = "coaps" if link.dtls else "coap"
            raise ProfileError(source, f"pixit.{uri_item}",
                               f"{uri!r} must be a {want} URI under {item}.profile = {link.profile!r}")
    if link.oscore and link.oscore_context and profile.embedded and not table.get("iut_oscore_context"):
        raise ProfileError(source, f"{item}.iut_oscore_context",
                           "missing: the embedded sample EMA's OSCORE context directory")


def _check_uri(source: str, item: str, uri: str, security) -> int:
    """Check a base URI ``coap[s]://host[:port]/path`` (7.1.3); returns its port (default 5683/5684)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise ProfileError(source, item, f"{uri!r} is not a URI ({exc})") from None
    if parts.scheme not in ("coap", "coaps"):
        raise ProfileError(source, item, f"{uri!r} must be a coap:// or coaps:// URI")
    if parts.scheme == "coaps" and "dtls-psk" not in security:
        raise ProfileError(source, item, f"{uri!r} uses coaps but pics.security does not list dtls-psk")
    if not parts.hostname:
        raise ProfileError(source, item, f"{uri!r} has no host")
    if parts.query or parts.fragment or parts.username is not None:
        raise ProfileError(source, item, f"{uri!r} must not have user info, a query or a fragment")
    segments = parts.path.split("/")[1:]
    if not segments or not all(segments):
        raise ProfileError(source, item, f"{uri!r} needs a base path without empty segments (e.g. /emap)")
    if port is None:
        return 5684 if parts.scheme == "coaps" else 5683
    return port
