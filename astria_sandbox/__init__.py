"""The Astria sandbox: an Astria-compatible HTTP server for development, demos, tests and drills.

It answers the tune, prompt, duplicate and like routes of Astria's API (an optional `.json` suffix, multipart
with Rails brackets or wrapped JSON bodies, `Authorization: Bearer sd_...`; any `sd_` key is an
account of its own), moves tunes and prompts through their lifecycle, POSTs one wrapped callback
per finished tune or prompt, and serves the training photos and the images it renders: 4 times
larger with `super_resolution`, outpainted with the `--outpaint` flags (Flux and `fast` tunes only),
and edited by the text when a prompt brings an `input_image` (the partner edit model's gallery tune).

Control routes (no auth, sandbox only): `GET /_sandbox/stats`, `GET|POST /_sandbox/faults`,
`GET /_sandbox/callbacks`, `POST /_sandbox/advance`, `POST /_sandbox/tunes/<id>/train` (finish
that tune's training now).

Start it with `python -m astria_sandbox` (or `manage.py astria_sandbox` when DEBUG is on), or in a
process with `engine.Sandbox(...).start()`. Modules: `engine` (the sandbox: switches, clock,
callbacks), `http` (routes and replies), `clock` (the lifecycle rules), `store`, `duplicates` and
`schema` (its SQLite state), `api_json` (Astria's JSON shapes), `params` and `validation` (request bodies),
`render` and `edit_render` (the images), `net` (its own outgoing requests), `cli` (the command line).

Nothing here imports the studio, and the studio never imports the sandbox: they speak HTTP only.
"""
