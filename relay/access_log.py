"""gunicorn's access log without personal data: `relay web` and `relay up` run gunicorn with
`--logger-class relay.access_log.MaskedAccessLogger`.

Every atom an access-log format can print that comes from the request line (`r`, `U`, `q`),
the referer (`f`) or a header (`{…}i`) is made safe by relay.logs: secret path segments
(callback tokens, webhook secrets) become `***`, query values other than harmless ones
(limit, cursor, status …) become `-`, phone numbers are masked. The finished line is masked
once more, so a phone in any other atom cannot slip through.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from gunicorn.glogging import Logger

from relay.logs import safe_path, safe_query, safe_request_line, safe_url
from shared.phones import mask_phones_in_text


class MaskedAccessLogger(Logger):
    """gunicorn's Logger whose access-log atoms hold no phone, text or token."""

    def atoms(
        self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any
    ) -> Any:
        # a plain dict: the header atoms ("{name}i") are keys gunicorn's typed atoms do not list
        atoms: dict[str, Any] = dict(super().atoms(resp, req, environ, request_time))
        atoms["r"] = safe_request_line(str(atoms.get("r", "")))
        atoms["U"] = safe_path(str(atoms.get("U", "")))
        atoms["q"] = safe_query(str(atoms.get("q", "")))
        if atoms.get("f") not in (None, "-"):
            atoms["f"] = safe_url(str(atoms["f"]))
        for key in list(atoms):
            if isinstance(key, str) and key.startswith("{") and key.endswith("}i"):
                name = key[1:-2].lower()
                if name in ("authorization", "cookie", "x-auth-token"):
                    atoms[key] = "-"
                elif name == "referer" and atoms[key] != "-":
                    atoms[key] = safe_url(str(atoms[key]))
        return atoms

    def access(
        self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any
    ) -> None:
        if not self.access_log_enabled:
            return
        safe_atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        try:
            line = mask_phones_in_text(self.cfg.access_log_format % safe_atoms)
            self.access_log.info(line)
        except Exception:
            self.error(mask_phones_in_text("Failed to format the access log line"))
