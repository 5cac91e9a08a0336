package stack

import (
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// cliTypeName is how `temporal server start-dev --search-attribute` names a type.
var cliTypeName = map[enums.IndexedValueType]string{
	enums.INDEXED_VALUE_TYPE_KEYWORD:      "Keyword",
	enums.INDEXED_VALUE_TYPE_TEXT:         "Text",
	enums.INDEXED_VALUE_TYPE_INT:          "Int",
	enums.INDEXED_VALUE_TYPE_DOUBLE:       "Double",
	enums.INDEXED_VALUE_TYPE_BOOL:         "Bool",
	enums.INDEXED_VALUE_TYPE_DATETIME:     "Datetime",
	enums.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}

// quietLogger drops the SDK's log lines of readiness probes.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

func describeDefault() *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: "default"}
}
