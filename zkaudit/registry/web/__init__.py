"""The registry's web pages: server-rendered HTML for people (clinicians,
regulators, vendors) over the same `Registry` the JSON API serves.

    pages      the FastAPI router: one handler per page, each a few lines
    reads      what the pages show, read from the registry (nothing written)
    summary    a vendor-supplied summary.json, reduced to what a page may show
    words      verdicts and refusals in plain words
    templates/ jinja2 templates (autoescaped, every one of them)
    static/    the one stylesheet

Pages live under /ui/; `/` redirects there. No JavaScript is needed to use
any page. Checking a proof runs `Registry.check`, exactly what
POST /v1/models/{m}/versions/{v}/check runs (in `registry serve`, in the
budgeted verifier workers of `sandbox.py`), and stores nothing.

Imports: the registry package (reads, log, merkle) and below; never a prover.
"""

from zkaudit.registry.web.pages import router

__all__ = ["router"]
