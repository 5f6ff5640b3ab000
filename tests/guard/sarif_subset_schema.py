"""A checked subset of the OASIS SARIF 2.1.0 JSON schema (the full schema is not shipped
offline). It keeps the official definitions of every object tokensafe emits — with their
`additionalProperties: false`, required members, enums and minimums — and leaves out the
objects tokensafe never writes (graphs, code flows, fixes, web requests, …).
"""

_P = {"$ref": "#/definitions/propertyBag"}
_LEVEL = {"enum": ["none", "note", "warning", "error"]}


def _obj(props: dict, required: list[str] | None = None) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": {**props, "properties": _P}}
    if required:
        out["required"] = required
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/definitions/{name}"}


def _arr(item: dict, unique: bool = False) -> dict:
    return {"type": "array", "minItems": 0, "uniqueItems": unique, "items": item}


_ANY_OBJ = {"type": "object"}  # members tokensafe does not emit: accepted, not checked

SCHEMA = {
    "$ref": "#/definitions/sarifLog",
    "definitions": {
        "sarifLog": _obj({"$schema": {"type": "string"}, "version": {"enum": ["2.1.0"]},
                          "runs": _arr(_ref("run")), "inlineExternalProperties": _arr(_ANY_OBJ, True)},
                         ["version", "runs"]),
        "propertyBag": {"type": "object", "additionalProperties": True,
                        "properties": {"tags": _arr({"type": "string"}, True)}},
        "run": _obj({
            "tool": _ref("tool"), "invocations": _arr(_ref("invocation")), "conversion": _ANY_OBJ,
            "language": {"type": "string"}, "versionControlProvenance": _arr(_ANY_OBJ, True),
            "originalUriBaseIds": {"type": "object", "additionalProperties": _ref("artifactLocation")},
            "artifacts": _arr(_ANY_OBJ, True), "logicalLocations": _arr(_ANY_OBJ, True),
            "graphs": _arr(_ANY_OBJ, True), "results": _arr(_ref("result")),
            "automationDetails": _ANY_OBJ, "runAggregates": _arr(_ANY_OBJ, True),
            "baselineGuid": {"type": "string"}, "redactionTokens": _arr({"type": "string"}, True),
            "defaultEncoding": {"type": "string"}, "defaultSourceLanguage": {"type": "string"},
            "newlineSequences": {"type": "array", "minItems": 1, "uniqueItems": True,
                                 "items": {"type": "string"}},
            "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
            "externalPropertyFileReferences": _ANY_OBJ, "threadFlowLocations": _arr(_ANY_OBJ, True),
            "taxonomies": _arr(_ANY_OBJ, True), "addresses": _arr(_ANY_OBJ),
            "translations": _arr(_ANY_OBJ, True), "policies": _arr(_ANY_OBJ, True),
            "webRequests": _arr(_ANY_OBJ, True), "webResponses": _arr(_ANY_OBJ, True),
            "specialLocations": _ANY_OBJ}, ["tool"]),
        "tool": _obj({"driver": _ref("toolComponent"), "extensions": _arr(_ref("toolComponent"), True)},
                     ["driver"]),
        "toolComponent": _obj({
            "guid": {"type": "string"}, "name": {"type": "string"}, "organization": {"type": "string"},
            "product": {"type": "string"}, "productSuite": {"type": "string"},
            "shortDescription": _ref("multiformatMessageString"),
            "fullDescription": _ref("multiformatMessageString"), "fullName": {"type": "string"},
            "version": {"type": "string"}, "semanticVersion": {"type": "string"},
            "dottedQuadFileVersion": {"type": "string"}, "releaseDateUtc": {"type": "string"},
            "downloadUri": {"type": "string"}, "informationUri": {"type": "string"},
            "globalMessageStrings": _ANY_OBJ, "notifications": _arr(_ref("reportingDescriptor"), True),
            "rules": _arr(_ref("reportingDescriptor"), True), "taxa": _arr(_ANY_OBJ, True),
            "locations": _arr(_ref("artifactLocation")), "language": {"type": "string"},
            "contents": _arr({"enum": ["localizedData", "nonLocalizedData"]}, True),
            "isComprehensive": {"type": "boolean"}, "localizedDataSemanticVersion": {"type": "string"},
            "minimumRequiredLocalizedDataSemanticVersion": {"type": "string"},
            "associatedComponent": _ANY_OBJ, "translationMetadata": _ANY_OBJ,
            "supportedTaxonomies": _arr(_ANY_OBJ, True)}, ["name"]),
        "reportingDescriptor": _obj({
            "id": {"type": "string"}, "deprecatedIds": _arr({"type": "string"}, True),
            "guid": {"type": "string"}, "deprecatedGuids": _arr({"type": "string"}, True),
            "name": {"type": "string"}, "deprecatedNames": _arr({"type": "string"}, True),
            "shortDescription": _ref("multiformatMessageString"),
            "fullDescription": _ref("multiformatMessageString"), "messageStrings": _ANY_OBJ,
            "defaultConfiguration": _ref("reportingConfiguration"), "helpUri": {"type": "string"},
            "help": _ref("multiformatMessageString"), "relationships": _arr(_ANY_OBJ, True)}, ["id"]),
        "reportingConfiguration": _obj({"enabled": {"type": "boolean"}, "level": _LEVEL,
                                        "rank": {"type": "number", "minimum": -1, "maximum": 100},
                                        "parameters": _P}),
        "multiformatMessageString": _obj({"text": {"type": "string"}, "markdown": {"type": "string"}},
                                         ["text"]),
        "message": _obj({"text": {"type": "string"}, "markdown": {"type": "string"},
                         "id": {"type": "string"}, "arguments": _arr({"type": "string"})}),
        "invocation": _obj({
            "commandLine": {"type": "string"}, "arguments": _arr({"type": "string"}),
            "responseFiles": _arr(_ref("artifactLocation"), True), "startTimeUtc": {"type": "string"},
            "endTimeUtc": {"type": "string"}, "exitCode": {"type": "integer"},
            "ruleConfigurationOverrides": _arr(_ANY_OBJ, True),
            "notificationConfigurationOverrides": _arr(_ANY_OBJ, True),
            "toolExecutionNotifications": _arr(_ref("notification")),
            "toolConfigurationNotifications": _arr(_ref("notification")),
            "exitCodeDescription": {"type": "string"}, "exitSignalName": {"type": "string"},
            "exitSignalNumber": {"type": "integer"}, "processStartFailureMessage": {"type": "string"},
            "executionSuccessful": {"type": "boolean"}, "machine": {"type": "string"},
            "account": {"type": "string"}, "processId": {"type": "integer"},
            "executableLocation": _ref("artifactLocation"), "workingDirectory": _ref("artifactLocation"),
            "environmentVariables": _ANY_OBJ, "stdin": _ref("artifactLocation"),
            "stdout": _ref("artifactLocation"), "stderr": _ref("artifactLocation"),
            "stdoutStderr": _ref("artifactLocation")}, ["executionSuccessful"]),
        "notification": _obj({
            "locations": _arr(_ref("location"), True), "message": _ref("message"), "level": _LEVEL,
            "threadId": {"type": "integer"}, "timeUtc": {"type": "string"}, "exception": _ANY_OBJ,
            "descriptor": _ANY_OBJ, "associatedRule": _ANY_OBJ}, ["message"]),
        "result": _obj({
            "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
            "rule": _ANY_OBJ,
            "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
            "level": _LEVEL, "message": _ref("message"), "analysisTarget": _ref("artifactLocation"),
            "locations": _arr(_ref("location")), "guid": {"type": "string"},
            "correlationGuid": {"type": "string"}, "occurrenceCount": {"type": "integer", "minimum": 1},
            "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "fingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "stacks": _arr(_ANY_OBJ, True), "codeFlows": _arr(_ANY_OBJ), "graphs": _arr(_ANY_OBJ, True),
            "graphTraversals": _arr(_ANY_OBJ, True), "relatedLocations": _arr(_ref("location"), True),
            "suppressions": _arr(_ANY_OBJ, True),
            "baselineState": {"enum": ["new", "unchanged", "updated", "absent"]},
            "rank": {"type": "number", "minimum": -1, "maximum": 100},
            "attachments": _arr(_ANY_OBJ, True), "hostedViewerUri": {"type": "string"},
            "workItemUris": _arr({"type": "string"}, True), "provenance": _ANY_OBJ,
            "fixes": _arr(_ANY_OBJ, True), "taxa": _arr(_ANY_OBJ, True), "webRequest": _ANY_OBJ,
            "webResponse": _ANY_OBJ}, ["message"]),
        "location": _obj({"id": {"type": "integer", "minimum": -1},
                          "physicalLocation": _ref("physicalLocation"),
                          "logicalLocations": _arr(_ANY_OBJ, True), "message": _ref("message"),
                          "annotations": _arr(_ref("region"), True),
                          "relationships": _arr(_ANY_OBJ, True)}),
        "physicalLocation": _obj({"address": _ANY_OBJ, "artifactLocation": _ref("artifactLocation"),
                                  "region": _ref("region"), "contextRegion": _ref("region")}),
        "artifactLocation": _obj({"uri": {"type": "string", "format": "uri-reference"},
                                  "uriBaseId": {"type": "string"},
                                  "index": {"type": "integer", "minimum": -1},
                                  "description": _ref("message")}),
        "region": _obj({
            "startLine": {"type": "integer", "minimum": 1}, "startColumn": {"type": "integer", "minimum": 1},
            "endLine": {"type": "integer", "minimum": 1}, "endColumn": {"type": "integer", "minimum": 1},
            "charOffset": {"type": "integer", "minimum": -1}, "charLength": {"type": "integer", "minimum": 0},
            "byteOffset": {"type": "integer", "minimum": -1}, "byteLength": {"type": "integer", "minimum": 0},
            "snippet": _ANY_OBJ, "message": _ref("message"), "sourceLanguage": {"type": "string"}}),
    },
}
