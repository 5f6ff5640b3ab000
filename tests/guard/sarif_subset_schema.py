"""A checked subset of the SARIF 2.1.0 schema (the full schema is not available offline).

It pins what code-scanning consumers rely on: version, runs[].tool.driver with rules,
results with ruleId/level/message/locations (1-based regions), partialFingerprints.
"""

LEVEL = {"enum": ["none", "note", "warning", "error"]}
MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
ARTIFACT = {"type": "object", "required": ["uri"], "properties": {"uri": {"type": "string", "format": "uri-reference"}}}
REGION = {"type": "object", "properties": {"startLine": {"type": "integer", "minimum": 1},
                                           "startColumn": {"type": "integer", "minimum": 1}}}
LOCATION = {"type": "object", "properties": {"physicalLocation": {
    "type": "object", "required": ["artifactLocation"],
    "properties": {"artifactLocation": ARTIFACT, "region": REGION}}}}
RULE = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"},
    "shortDescription": MESSAGE, "fullDescription": MESSAGE, "help": MESSAGE,
    "defaultConfiguration": {"type": "object", "properties": {"level": LEVEL}},
    "properties": {"type": "object"}}}
RESULT = {"type": "object", "required": ["message", "ruleId", "locations"], "properties": {
    "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": 0},
    "level": LEVEL, "message": MESSAGE,
    "locations": {"type": "array", "minItems": 1, "items": LOCATION},
    "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
    "properties": {"type": "object"}}}
SCHEMA = {
    "type": "object", "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                   "informationUri": {"type": "string"},
                                   "rules": {"type": "array", "items": RULE}}}}},
                "results": {"type": "array", "items": RESULT},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "invocations": {"type": "array", "items": {
                    "type": "object", "required": ["executionSuccessful"],
                    "properties": {"executionSuccessful": {"type": "boolean"},
                                   "toolExecutionNotifications": {"type": "array", "items": {
                                       "type": "object", "required": ["message"],
                                       "properties": {"message": MESSAGE, "level": LEVEL}}}}}},
            }}},
    },
}
