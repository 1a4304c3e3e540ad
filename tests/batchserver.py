"""A loopback fake of OpenAI's Files and Batches endpoints, on real sockets.

It extends the chat completions fake (tests/fakeserver.py), so one server answers both the
Batch API and live requests (re-asks sent live), with the same handler scripting the model per
record and the same bill. What it implements, as the provider documents it:

- ``POST /v1/files`` (multipart: ``purpose=batch`` and ``file``): a file object.
- ``POST /v1/batches`` (``input_file_id``, ``endpoint``, ``completion_window: "24h"``,
  ``metadata``): a batch object, status ``validating``.
- ``GET /v1/batches/{id}``: the batch; each poll moves it one step along validating ->
  in_progress -> finalizing -> completed (unless ``hold`` is set: then batches numbered from
  ``hold_from`` on stay in progress),
  and on completion every request line is answered through the handler: answers go to the
  output file, error statuses to the error file (``response.status_code`` >= 400).
- ``GET /v1/batches?limit=&after=``: the batches, newest first.
- ``GET /v1/files/{id}/content``: a file's bytes.

With ``down`` set, every Files and Batches request is answered 503 (an outage).

Batch-level faults come from ``batch_fault(number, lines)`` (the batch's 1-based number and its
request lines): ``"fail"`` (validation fails: status ``failed`` with ``errors``), ``"expire"``
(only the first half of the requests is answered, the rest go to the error file with code
``batch_expired``; status ``expired``), or None.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11

from extractor.testing import wire
from tests.fakeserver import FakeServer, Handler, KeyFunc, person_handler, record_key

__all__ = ["BatchServer"]

BatchFault = Callable[[int, list[dict[str, Any]]], str | None]
_STEPS = ("validating", "in_progress", "finalizing", "completed")


class BatchServer(FakeServer):
    def __init__(
        self,
        handler: Handler = person_handler,
        *,
        batch_fault: BatchFault | None = None,
        key: KeyFunc = record_key,
    ) -> None:
        super().__init__(handler, key=key)
        self.batch_fault = batch_fault
        self.hold = False
        self.hold_from = 1  # with hold: batches from this number on stay in progress
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.submitted: Counter[str] = Counter()  # custom ids, over every batch created
        self.polls = 0
        self.down = False  # every Files/Batches request answers 503 (retry at once)
        self._numbers = itertools.count(1)
        self._lines: dict[str, list[dict[str, Any]]] = {}

    # -- what happened -----------------------------------------------------------------------

    def created(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.batches.values())

    # -- HTTP --------------------------------------------------------------------------------

    async def _other(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        method = request.method.decode()
        url = urlsplit(request.target.decode())
        parts = [part for part in url.path.split("/") if part][1:]  # without "v1"
        status, payload, raw = 404, {"error": {"message": "not found"}}, None
        if self.down:
            overloaded = {"error": {"message": "The server is overloaded.", "type": "server_error"}}
            await self._send(conn, writer, 503, overloaded, {"retry-after-ms": "1"}, None)
            return True
        if method == "POST" and parts == ["files"]:
            status, payload = self._upload(headers, body)
        elif method == "POST" and parts == ["batches"]:
            status, payload = self._create(body)
        elif method == "GET" and parts == ["batches"]:
            status, payload = self._list(parse_qs(url.query))
        elif method == "GET" and len(parts) == 2 and parts[0] == "batches":
            status, payload = self._poll(parts[1])
        elif method == "GET" and len(parts) == 3 and parts[1] in self.contents:
            status, payload, raw = 200, None, self.contents[parts[1]]  # /files/{id}/content
        await self._send(conn, writer, status, payload, {}, raw)
        return True

    def _upload(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        head = f"Content-Type: {headers.get('content-type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, bytes] = {}
        names: dict[str, str] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(data, bytes):
                fields[name] = data
                names[name] = str(part.get_filename() or "")
        if fields.get("purpose") != b"batch" or "file" not in fields:
            return 400, {"error": {"message": "purpose=batch and file are required"}}
        file_id = f"file-{next(self._numbers)}"
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": len(fields["file"]),
            "created_at": int(time.time()),
            "filename": names["file"],
            "purpose": "batch",
        }
        with self._lock:
            self.files[file_id] = obj
            self.contents[file_id] = fields["file"]
        return 200, obj

    def _create(self, body: bytes) -> tuple[int, Any]:
        params = json.loads(body)
        file_id = params.get("input_file_id")
        if file_id not in self.contents:
            return 404, {"error": {"message": f"no file {file_id}"}}
        if params.get("endpoint") != "/v1/chat/completions" or params.get("completion_window") != (
            "24h"
        ):
            return 400, {"error": {"message": "bad endpoint or completion_window"}}
        lines = [json.loads(line) for line in self.contents[file_id].splitlines() if line]
        batch_id = f"batch_{next(self._numbers)}"
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": params["endpoint"],
            "errors": None,
            "input_file_id": file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": params.get("metadata"),
        }
        with self._lock:
            batch["number"] = len(self.batches) + 1
            self.batches[batch_id] = batch
            self._lines[batch_id] = lines
            self.submitted.update(line["custom_id"] for line in lines)
        return 200, _public(batch)

    def _list(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        limit = int(query.get("limit", ["20"])[0])
        after = query.get("after", [None])[0]
        with self._lock:
            newest = list(reversed(self.batches.values()))
        if after is not None:
            ids = [batch["id"] for batch in newest]
            newest = newest[ids.index(after) + 1 :] if after in ids else []
        page = newest[:limit]
        return 200, {
            "object": "list",
            "data": [_public(batch) for batch in page],
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(newest) > limit,
        }

    def _poll(self, batch_id: str) -> tuple[int, Any]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, {"error": {"message": f"no batch {batch_id}"}}
        with self._lock:
            self.polls += 1
        status = batch["status"]
        held = self.hold and batch["number"] >= self.hold_from and status == "in_progress"
        if status in _STEPS[:-1] and not held:
            self._advance(batch)
        return 200, _public(batch)

    def _advance(self, batch: dict[str, Any]) -> None:
        lines = self._lines[batch["id"]]
        fault = self.batch_fault(batch["number"], lines) if self.batch_fault else None
        if batch["status"] == "validating" and fault == "fail":
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "bad line", "line": 1}],
            }
            return
        batch["status"] = _STEPS[_STEPS.index(batch["status"]) + 1]
        if batch["status"] != "completed":
            return
        answered = lines[: len(lines) // 2] if fault == "expire" else lines
        output, errors = [], []
        for line in answered:
            chat, reply = self.ask(line["body"], {})
            number = next(self._ids)
            request_id = f"req-{number}"
            if reply.status != 200 or reply.drop:
                status = reply.status if not reply.drop else 500
                body = {"error": reply.error} if reply.error else wire.error_body(status, "error")
                response = {"status_code": status}
                errors.append(
                    {
                        "id": f"batch_req_{number}",
                        "custom_id": line["custom_id"],
                        "response": {**response, "request_id": request_id, "body": body},
                        "error": None,
                    }
                )
                continue
            answer = self.bill_answer(chat, reply)
            completion = answer.completion(
                line["body"], id=f"chatcmpl-{number}", created=int(time.time())
            )
            output.append(
                {
                    "id": f"batch_req_{number}",
                    "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "request_id": request_id, "body": completion},
                    "error": None,
                }
            )
        for line in lines[len(answered) :]:
            error = {"code": "batch_expired", "message": "This request could not be executed"}
            errors.append(
                {"id": "", "custom_id": line["custom_id"], "response": None, "error": error}
            )
        output.reverse()  # lines come in any order: the client must match on custom_id
        batch["status"] = "expired" if fault == "expire" else "completed"
        batch["request_counts"] = {
            "total": len(lines),
            "completed": len(output),
            "failed": len(errors),
        }
        for name, rows in (("output_file_id", output), ("error_file_id", errors)):
            if rows:
                file_id = f"file-{next(self._numbers)}"
                data = "".join(json.dumps(row) + "\n" for row in rows).encode()
                with self._lock:
                    self.contents[file_id] = data
                batch[name] = file_id


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in batch.items() if key != "number"}
