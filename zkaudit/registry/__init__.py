"""The public model registry: SQLAlchemy store, signatures, transparency log, HTTP API.

It verifies proofs through `zkaudit.statements.verify` and never imports a prover.
Imports: statements (verifier side) and below.

    encoding   canonical, domain-separated encoding of signed/logged statements
    keys       BLS12-381 (IETF PoP scheme) keys, keystore, (aggregate) verification
    records    the statement types signers sign, one tag each
    merkle     RFC 6962/9162 hashing, inclusion/consistency proofs and checks
    models     typed SQLAlchemy tables (schema only via registry/migrations)
    db         URLs, engines, write locking, migrations
    log        the transparency log in the database
    store      the registry service (writes) + views (reads)
    chain      the consent chain: dataset, consent-table and consent-proof records
    audit      verify-log over a database or an exported copy
    auth       signed HTTP requests (nonce, timestamp, payload digest)
    api        FastAPI app (problem+json, paging, ETags, write limits); limits: body-size guard
    client     building signed statements and requests on the signer's side
    remote     a served registry (https://...) used like a database: reads, signed
               writes, and checks that trust nothing the server says (pinned key,
               consistency from the highest head seen, proven log ranges)
    artifacts  reading the public half of a compiled model directory
"""
