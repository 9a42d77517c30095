"""A small C2SP tlog-witness (``sealtrail witness serve``) and the log's side of it.

* ``protocol`` — the ``add-checkpoint`` wire format and its status codes (pure);
* ``state`` — the witness's SQLite record: trusted logs, the latest cosigned
  checkpoint per origin, and refused requests kept as evidence;
* ``service`` — the witness's checks, in the order c2sp.org/tlog-witness gives;
* ``app`` — the HTTP face (``POST /add-checkpoint``, ``GET /<origin hash>/checkpoint``);
* ``submit`` — Sealtrail submitting its checkpoints to the witnesses of a policy.
"""
