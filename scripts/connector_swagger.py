#!/usr/bin/env python3
"""Writes infra/connector/apiDefinition.swagger.json, the Logic Apps custom connector.

The JSON file is what ships (Bicep loads it, `anaplan-functions openapi` prints it byte
for byte); this script is where it is edited, because the same parameters recur on the
start, status and cancel operations of each long-running function.

    python3 scripts/connector_swagger.py           # rewrite the JSON file
    python3 scripts/connector_swagger.py --check   # exit 1 when the file differs

Output: 2-space indentation, keys in the order written here, a trailing newline. Only the
standard library is used.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "infra" / "connector" / "apiDefinition.swagger.json"

# Anaplan objects: (parameter prefix, display name, plural for list-objects, id format, parents).
OBJECTS = {
    "workspace": ("Workspace", "workspaces", "32 lowercase hexadecimal characters", []),
    "model": ("Model", "models", "32 uppercase hexadecimal characters", ["workspace"]),
    "process": ("Process", "processes", "digits, e.g. 118000000001", ["workspace", "model"]),
    "export": ("Export", "exports", "digits, e.g. 116000000001", ["workspace", "model"]),
    "import": ("Import", "imports", "digits, e.g. 112000000001", ["workspace", "model"]),
    "view": ("View", "views", "digits, e.g. 102000000001 (a line item's id also works)", ["workspace", "model"]),
}


def obj_id(kind, required=False, dropdown=True):
    """`<kind>Id`: a dropdown fed by ListObjects, or any id typed in."""
    display, plural, fmt, parents = OBJECTS[kind]
    p = {
        "name": f"{kind}Id",
        "in": "query",
        "required": required,
        "type": "string",
        "x-ms-summary": display,
        "description": (
            f"The {kind} ({fmt}). Pick it from the list, or give its name in "
            f"'{display} name' instead; exactly one of the two."
            if not required
            else f"The {kind}'s id ({fmt}), as in the status URL of the task."
        ),
        "x-ms-visibility": "important",
    }
    if dropdown:
        params = {"kind": plural}
        for parent in parents:
            params[f"{parent}Id"] = {"parameter": f"{parent}Id"}
        p["x-ms-dynamic-values"] = {
            "operationId": "ListObjects",
            "parameters": params,
            "value-path": "id",
            "value-title": "name",
        }
    return p


def obj_name(kind):
    display = OBJECTS[kind][0]
    return {
        "name": f"{kind}Name",
        "in": "query",
        "required": False,
        "type": "string",
        "x-ms-summary": f"{display} name",
        "description": (
            f"The {kind}'s exact name, instead of '{display}'. A name that matches nothing, "
            "or more than one object, is a 404 that lists the closest names."
        ),
        "x-ms-visibility": "advanced",
    }


def objects(*kinds):
    out = []
    for k in kinds:
        out += [obj_id(k), obj_name(k)]
    return out


def ids(*kinds):
    """Required ids, as the status URL carries them."""
    return [obj_id(k, required=True) for k in kinds]


def locale():
    return {
        "name": "locale",
        "in": "query",
        "required": False,
        "type": "string",
        "default": "en_US",
        "x-ms-summary": "Locale",
        "description": "The locale Anaplan runs the action in, e.g. en_US (the default) or fr_FR.",
        "x-ms-visibility": "advanced",
    }


def wait(start):
    return {
        "name": "wait",
        "in": "query",
        "required": False,
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
        "x-ms-summary": "Wait (seconds)",
        "description": (
            "Hold the answer up to this many seconds (at most 100) and answer with the final "
            "result if the task finished by then. Not needed with the asynchronous pattern, "
            "which Logic Apps follows by itself."
            if start
            else "Hold the answer up to this many seconds (at most 100) for the task to finish."
        ),
        "x-ms-visibility": "advanced",
    }


def idempotency_key():
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "type": "string",
        "x-ms-summary": "Idempotency key",
        "description": (
            "Any text up to 255 characters, e.g. the workflow run's name. A request that repeats "
            "a key seen in the last 24 hours returns the task that key started instead of "
            "starting a second one, so a retried action never runs the task twice."
        ),
        "x-ms-visibility": "advanced",
    }


def task_id():
    return {
        "name": "taskId",
        "in": "query",
        "required": True,
        "type": "string",
        "x-ms-summary": "Task ID",
        "description": "The Anaplan task's id, from the 'Task ID' of the start action's answer.",
        "x-ms-visibility": "important",
    }


def dump(what):
    return {
        "name": "dump",
        "in": "query",
        "required": False,
        "type": "string",
        "x-ms-summary": "Failure dump",
        "description": what,
        "x-ms-visibility": "advanced",
    }


def container(hint):
    return {
        "name": "container",
        "in": "query",
        "required": False,
        "type": "string",
        "x-ms-summary": "Blob container",
        "description": hint,
        "x-ms-visibility": "important",
    }


def blob_name(hint):
    return {
        "name": "blobName",
        "in": "query",
        "required": False,
        "type": "string",
        "x-ms-summary": "Blob name",
        "description": hint,
        "x-ms-visibility": "advanced",
    }


def destination(visibility="important"):
    return {
        "name": "destination",
        "in": "query",
        "required": False,
        "type": "string",
        "enum": ["response", "blob"],
        "default": "response",
        "x-ms-summary": "Destination",
        "description": (
            "response (the default): the action's body is the exported file. blob: the file "
            "is streamed into Blob storage (the app's storage account, or EXPORT_STORAGE_URL), "
            "in 'Blob container', and the body says where."
        ),
        "x-ms-visibility": visibility,
    }


def ref(name):
    return {"$ref": f"#/definitions/{name}"}


def problem_responses(extra=None):
    out = {}
    for code, text in (extra or {}).items():
        out[code] = {"description": text, "schema": ref("Problem")}
    out["default"] = {
        "description": (
            "A problem (application/problem+json): 400 bad parameter, 401/403 Anaplan refused "
            "the credentials, 404 unknown object, 409 conflict, 422 Anaplan ran it and it "
            "failed, 423 model locked, 429 throttled, 502/504 Anaplan unreachable, 503 Key "
            "Vault unreachable or the model still busy. 429 and 5xx come with Retry-After."
        ),
        "schema": ref("Problem"),
    }
    return out


def accepted(what):
    return {
        "description": (
            f"{what} The asynchronous pattern: Logic Apps polls Location every Retry-After "
            "seconds until the final answer."
        ),
        "headers": {
            "Location": {
                "type": "string",
                "description": "The status URL (GET) of the task; DELETE on it cancels.",
            },
            "Retry-After": {
                "type": "integer",
                "description": "Seconds to wait before polling Location.",
            },
        },
        "schema": ref("TaskAccepted"),
    }


TASK_FAILED = "Anaplan ran the task and it failed: the problem lists the failed steps and their dumps."
CANCELLED = "The task was cancelled (or had already finished, for a cancellation)."


def long_running(noun, kind, start_op, start_params, status_extra, final_schema, final_text, consumes=None):
    """POST (start), GET (status) and DELETE (cancel) on one function's path."""
    display = OBJECTS[kind][0]
    start = {
        "operationId": start_op[0],
        "summary": start_op[1],
        "description": start_op[2],
        "x-ms-visibility": "important",
    }
    if consumes:
        start["consumes"] = consumes
    start["produces"] = start_op[3]
    start["parameters"] = (
        objects("workspace", "model", kind) + start_params + [wait(True), idempotency_key()]
    )
    start["responses"] = {
        "200": {"description": final_text, "schema": ref(final_schema)},
        "202": accepted(f"The {noun} was started (or is still running)."),
        **problem_responses({"409": CANCELLED, "422": TASK_FAILED}),
    }

    status = {
        "operationId": f"Get{display}Status",
        "summary": f"Get the status of {'an' if noun[0] in 'aeiou' else 'a'} {noun}",
        "description": (
            f"Checks a {noun} task started by '{start_op[1]}': 202 while it runs, then the same "
            "final answer the start action gives. The start action already waits for the end "
            "by itself (asynchronous pattern); use this when that pattern is turned off."
        ),
        "x-ms-visibility": "advanced",
        "produces": start_op[3],
        "parameters": ids("workspace", "model", kind) + [task_id()] + status_extra + [wait(False)],
        "responses": {
            "200": {"description": final_text, "schema": ref(final_schema)},
            "202": accepted(f"The {noun} is still running."),
            **problem_responses({"409": CANCELLED, "422": TASK_FAILED}),
        },
    }

    cancel = {
        "operationId": f"Cancel{display}",
        "summary": f"Cancel {'an' if noun[0] in 'aeiou' else 'a'} {noun}",
        "description": (
            f"Asks Anaplan to cancel a running {noun} task. The answer is 202 with the status "
            "URL; with the asynchronous pattern on, the action then waits until Anaplan has "
            "cancelled the task, which ends in 409 (turn the pattern off in the action's "
            "settings to return right after asking)."
        ),
        "x-ms-visibility": "advanced",
        "produces": ["application/json"],
        "parameters": ids("workspace", "model", kind) + [task_id()],
        "responses": {
            "202": accepted("Cancellation requested."),
            **problem_responses({"409": CANCELLED}),
        },
    }
    return {"post": start, "get": status, "delete": cancel}


def prop(typ, summary, description, **extra):
    p = {"type": typ, "x-ms-summary": summary, "description": description}
    p.update(extra)
    return p


def definitions():
    task_state = prop(
        "string",
        "Task state",
        "NOT_STARTED, IN_PROGRESS, CANCELLING, COMPLETE or CANCELLED.",
    )
    rows = {
        "type": "object",
        "x-ms-summary": "Rows",
        "description": "Rows the import processed, ignored and failed, summed over its steps.",
        "properties": {
            "processed": prop("integer", "Rows processed", "Rows imported."),
            "ignored": prop("integer", "Rows ignored", "Rows Anaplan ignored."),
            "failed": prop("integer", "Rows failed", "Rows that failed (see the dump)."),
        },
    }
    result = prop("object", "Anaplan result", "Anaplan's own task result, nested results included.")
    return {
        "ObjectItem": {
            "type": "object",
            "properties": {
                "id": prop("string", "ID", "The object's id."),
                "name": prop("string", "Name", "The object's name."),
            },
        },
        "ViewRecords": {
            "type": "object",
            "description": "The view as records (format=records).",
            "properties": {
                "view": {
                    "type": "object",
                    "x-ms-summary": "View",
                    "description": "The view read.",
                    "properties": {
                        "id": prop("string", "View ID", "The view's id."),
                        "name": prop("string", "View name", "The view's name."),
                    },
                },
                "pages": {
                    "type": "array",
                    "x-ms-summary": "Pages",
                    "description": "The page selection the data is for.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "dimension": prop("string", "Page dimension", "A page dimension's name."),
                            "item": prop("string", "Page item", "The item selected on it."),
                        },
                    },
                },
                "columns": {
                    "type": "array",
                    "x-ms-summary": "Columns",
                    "description": (
                        "Row dimension names, then column labels (labels of several column "
                        "dimensions joined with ' | '): the keys of each row, in order."
                    ),
                    "items": {"type": "string"},
                },
                "rows": {
                    "type": "array",
                    "x-ms-summary": "Rows",
                    "description": (
                        "One object per row, keyed by the names in 'Columns'; numbers are JSON "
                        "numbers, everything else strings."
                    ),
                    "items": {"type": "object", "additionalProperties": True},
                },
            },
        },
        "TaskAccepted": {
            "type": "object",
            "description": "A task that is still running.",
            "properties": {
                "taskId": prop("string", "Task ID", "The Anaplan task's id."),
                "taskState": task_state,
                "statusUrl": prop("string", "Status URL", "Where to poll (GET) or cancel (DELETE) the task; equals Location."),
            },
        },
        "ProcessResult": {
            "type": "object",
            "description": "A process that completed successfully.",
            "properties": {
                "taskId": prop("string", "Task ID", "The Anaplan task's id."),
                "taskState": task_state,
                "successful": prop("boolean", "Successful", "Always true here; a failed task is a 422 problem."),
                "result": result,
            },
        },
        "ExportBlobResult": {
            "type": "object",
            "description": (
                "Where an export to Blob storage (destination=blob) was written. With "
                "destination=response the body is the file itself instead."
            ),
            "properties": {
                "blobUrl": prop("string", "Blob URL", "The blob's URL, without any SAS."),
                "bytes": prop("integer", "Bytes", "Size of the file written."),
                "chunks": prop("integer", "Chunks", "Anaplan chunks the file came in."),
                "contentType": prop("string", "Content type", "The file's content type."),
            },
        },
        "ImportResult": {
            "type": "object",
            "description": "An import that completed successfully.",
            "properties": {
                "taskId": prop("string", "Task ID", "The Anaplan task's id."),
                "taskState": task_state,
                "successful": prop("boolean", "Successful", "Always true here; a failed import is a 422 problem."),
                "rows": rows,
                "result": result,
            },
        },
        "FailedStep": {
            "type": "object",
            "properties": {
                "objectId": prop("string", "Step ID", "The failed step's object id."),
                "name": prop("string", "Step name", "The failed step's name."),
                "details": {
                    "type": "array",
                    "x-ms-summary": "Details",
                    "description": "Anaplan's messages about the failure.",
                    "items": {"type": "string"},
                },
                "dumpHead": {
                    "type": "array",
                    "x-ms-summary": "Dump head",
                    "description": "The first lines of the failure dump.",
                    "items": {"type": "string"},
                },
                "dumpUrl": prop("string", "Dump URL", "GET it for the whole dump as CSV (absent once expired)."),
            },
        },
        "Problem": {
            "type": "object",
            "description": "An error, as application/problem+json (RFC 9457).",
            "properties": {
                "type": prop("string", "Problem type", "A URI naming the kind of problem."),
                "title": prop("string", "Title", "A short summary of the kind of problem."),
                "status": prop("integer", "Status", "The HTTP status code."),
                "detail": prop("string", "Detail", "What went wrong, for this request."),
                "anaplan": {
                    "type": "object",
                    "x-ms-summary": "Anaplan",
                    "description": "Anaplan's own answer, when Anaplan refused.",
                    "properties": {
                        "status": prop("integer", "Anaplan status", "The status Anaplan answered with."),
                        "message": prop("string", "Anaplan message", "Anaplan's message."),
                    },
                },
                "closestNames": {
                    "type": "array",
                    "x-ms-summary": "Closest names",
                    "description": "For an unknown name: the most similar names.",
                    "items": {"type": "string"},
                },
                "matchingIds": {
                    "type": "array",
                    "x-ms-summary": "Matching IDs",
                    "description": "For a name shared by several objects: their ids.",
                    "items": {"type": "string"},
                },
                "taskId": prop("string", "Task ID", "For a task: its id."),
                "taskState": task_state,
                "successful": prop("boolean", "Successful", "For a failed task: false."),
                "result": result,
                "failures": {
                    "type": "array",
                    "x-ms-summary": "Failures",
                    "description": "For a failed task: one entry per failed step.",
                    "items": ref("FailedStep"),
                },
                "rows": rows,
            },
        },
    }


def swagger():
    views = {
        "get": {
            "operationId": "GetViewData",
            "summary": "Read a view",
            "description": (
                "Reads an Anaplan view (saved view or module default view). records (the "
                "default) gives one object per row, keyed by the row dimensions and the column "
                "labels; grid gives Anaplan's own JSON; csv gives Anaplan's CSV. Views above "
                "1,000,000 cells are read through a large read request."
            ),
            "x-ms-visibility": "important",
            "produces": ["application/json", "text/csv", "application/problem+json"],
            "parameters": objects("workspace", "model", "view")
            + [
                {
                    "name": "pages",
                    "in": "query",
                    "required": False,
                    "type": "string",
                    "x-ms-summary": "Pages",
                    "description": (
                        "Page selection, as dimensionId:itemId pairs separated by commas; "
                        "the view's default pages when empty."
                    ),
                    "x-ms-visibility": "advanced",
                },
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "type": "string",
                    "enum": ["records", "grid", "csv"],
                    "default": "records",
                    "x-ms-summary": "Format",
                    "description": "records (the default), grid (Anaplan's JSON) or csv (Anaplan's CSV).",
                    "x-ms-visibility": "advanced",
                },
            ],
            "responses": {
                "200": {
                    "description": "The view's data (records shown; grid and csv are Anaplan's own formats).",
                    "schema": ref("ViewRecords"),
                },
                **problem_responses(),
            },
        }
    }

    process = long_running(
        "process",
        "process",
        (
            "RunProcess",
            "Run a process",
            (
                "Runs an Anaplan process and waits until it has finished (asynchronous "
                "pattern). The action succeeds when every step did; a failed step makes it fail "
                "with 422, listing each failed step with the head of its dump."
            ),
            ["application/json", "application/problem+json"],
        ),
        [locale()],
        [dump("The objectId of a failed step: answers with that step's whole failure dump as CSV.")],
        "ProcessResult",
        "The process completed successfully.",
    )
    process["get"]["produces"] = ["application/json", "text/csv", "application/problem+json"]

    export = long_running(
        "export",
        "export",
        (
            "ExportFile",
            "Export a file",
            (
                "Runs an Anaplan export and, once it has finished (asynchronous pattern), "
                "returns the file, or streams it into Blob storage with destination=blob."
            ),
            ["application/json", "text/csv", "application/octet-stream", "application/problem+json"],
        ),
        [
            destination(),
            container("With destination=blob: the container to write to (required then)."),
            blob_name("With destination=blob: the blob's name; the export's name by default."),
            locale(),
        ],
        [
            destination("advanced"),
            container("As in the status URL, for destination=blob."),
            blob_name("As in the status URL, for destination=blob."),
        ],
        "ExportBlobResult",
        (
            "The export completed: the file itself (destination=response; an empty export is "
            "an empty body), or where it was written (destination=blob)."
        ),
    )
    imp = long_running(
        "import",
        "import",
        (
            "ImportFile",
            "Import a file",
            (
                "Uploads the file (the action's body, or a blob with source=blob) to the "
                "import's data source in chunks, runs the import and waits until it has "
                "finished (asynchronous pattern). The answer counts the rows processed, "
                "ignored and failed; failed rows make it a 422 with the dump."
            ),
            ["application/json", "application/problem+json"],
        ),
        [
            {
                "name": "source",
                "in": "query",
                "required": False,
                "type": "string",
                "enum": ["body", "blob"],
                "default": "body",
                "x-ms-summary": "Source",
                "description": "body (the default): the file is the action's body. blob: read it from 'Blob container' / 'Blob name'.",
                "x-ms-visibility": "important",
            },
            container("With source=blob: the container holding the file."),
            blob_name("With source=blob: the blob holding the file (required then)."),
            locale(),
            {
                "name": "file",
                "in": "body",
                "required": False,
                "x-ms-summary": "File content",
                "description": "With source=body: the file to import (CSV or text, as the import expects).",
                "schema": {"type": "string", "format": "binary"},
                "x-ms-visibility": "important",
            },
        ],
        [dump("Any value (e.g. true): answers with the import's whole failure dump as CSV.")],
        "ImportResult",
        "The import completed successfully.",
        consumes=["text/csv", "application/octet-stream"],
    )
    imp["get"]["produces"] = ["application/json", "text/csv", "application/problem+json"]

    list_objects = {
        "get": {
            "operationId": "ListObjects",
            "summary": "List Anaplan objects",
            "description": (
                "Lists the workspaces, models, processes, exports, imports or views the "
                "connection's identity can see, as id and name. It also feeds the dropdowns "
                "of the other actions."
            ),
            "x-ms-visibility": "advanced",
            "produces": ["application/json", "application/problem+json"],
            "parameters": [
                {
                    "name": "kind",
                    "in": "query",
                    "required": True,
                    "type": "string",
                    "enum": ["workspaces", "models", "processes", "exports", "imports", "views"],
                    "x-ms-summary": "Kind",
                    "description": (
                        "What to list. models need a workspace; processes, exports, imports "
                        "and views need a workspace and a model."
                    ),
                    "x-ms-visibility": "important",
                },
                {
                    "name": "workspaceId",
                    "in": "query",
                    "required": False,
                    "type": "string",
                    "x-ms-summary": "Workspace",
                    "description": "The workspace's id (32 lowercase hexadecimal characters), for every kind but workspaces.",
                    "x-ms-visibility": "important",
                },
                obj_name("workspace"),
                {
                    "name": "modelId",
                    "in": "query",
                    "required": False,
                    "type": "string",
                    "x-ms-summary": "Model",
                    "description": "The model's id (32 uppercase hexadecimal characters), for processes, exports, imports and views.",
                    "x-ms-visibility": "important",
                },
                obj_name("model"),
            ],
            "responses": {
                "200": {
                    "description": "The objects, as id and name.",
                    "schema": {"type": "array", "items": ref("ObjectItem")},
                },
                **problem_responses(),
            },
        }
    }

    return {
        "swagger": "2.0",
        "info": {
            "title": "Anaplan Functions",
            "description": (
                "Read Anaplan views and run processes, exports and imports from Logic Apps, "
                "through your own anaplan-functions app (an Azure Functions custom handler). "
                "Long-running actions follow the asynchronous pattern: the action ends when "
                "Anaplan's task has."
            ),
            "version": "1.0.0",
        },
        "host": "your-function-app.azurewebsites.net",
        "basePath": "/api",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/get-view-data": views,
            "/run-process": process,
            "/export-file": export,
            "/import-file": imp,
            "/list-objects": list_objects,
        },
        "definitions": definitions(),
        "parameters": {},
        "responses": {},
        "securityDefinitions": {
            "api_key": {
                "type": "apiKey",
                "in": "header",
                "name": "x-functions-key",
                "description": "A function key (or the host key) of the function app.",
            }
        },
        "security": [{"api_key": []}],
        "tags": [],
        "x-ms-capabilities": {
            "testConnection": {"operationId": "ListObjects", "parameters": {"kind": "workspaces"}}
        },
    }


def render():
    return json.dumps(swagger(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(
                f"{OUT.relative_to(OUT.parent.parent.parent)} is not what scripts/connector_swagger.py "
                "writes: edit the script and run it, never the JSON by hand",
                file=sys.stderr,
            )
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
