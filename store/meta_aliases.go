package store

// The names in this file moved to [github.com/governor-io/governor/store/meta],
// the leaf package of object metadata, selectors and errors. They stay here
// as aliases, TEMPORARILY, so that code written against store keeps
// compiling while its callers move to meta; they will be removed. New code
// should use meta's names.

import "github.com/governor-io/governor/store/meta"

// Types moved to meta.
type (
	AlreadyOwnedError   = meta.AlreadyOwnedError
	Cause               = meta.Cause
	Condition           = meta.Condition
	ConditionStatus     = meta.ConditionStatus
	DeepCopier          = meta.DeepCopier
	DeletionPropagation = meta.DeletionPropagation
	DeleteOptions       = meta.DeleteOptions
	Duration            = meta.Duration
	EventType           = meta.EventType
	FieldRequirement    = meta.FieldRequirement
	FieldSelector       = meta.FieldSelector
	LabelRequirement    = meta.LabelRequirement
	LabelSelector       = meta.LabelSelector
	ListOptions         = meta.ListOptions
	List[T any]         = meta.List[T]
	MicroTime           = meta.MicroTime
	NamespacedName      = meta.NamespacedName
	Object              = meta.Object
	ObjectMeta          = meta.ObjectMeta
	OwnerReference      = meta.OwnerReference
	Preconditions       = meta.Preconditions
	Reason              = meta.Reason
	SelectionOperator   = meta.SelectionOperator
	Status              = meta.Status
	StatusCause         = meta.StatusCause
	StatusDetails       = meta.StatusDetails
	StatusError         = meta.StatusError
	StatusListMeta      = meta.StatusListMeta
	Time                = meta.Time
	TypeMeta            = meta.TypeMeta
	WatchEvent[T any]   = meta.WatchEvent[T]
)

// Constants moved to meta.
const (
	DeletePropagationBackground      = meta.DeletePropagationBackground
	DeletePropagationForeground      = meta.DeletePropagationForeground
	DeletePropagationOrphan          = meta.DeletePropagationOrphan
	FinalizerOrphanDependents        = meta.FinalizerOrphanDependents
	FinalizerDeleteDependents        = meta.FinalizerDeleteDependents
	Added                            = meta.Added
	Bookmark                         = meta.Bookmark
	CauseTypeFieldValueForbidden     = meta.CauseTypeFieldValueForbidden
	CauseTypeFieldValueInvalid       = meta.CauseTypeFieldValueInvalid
	CauseTypeFieldValueNotSupported  = meta.CauseTypeFieldValueNotSupported
	CauseTypeFieldValueRequired      = meta.CauseTypeFieldValueRequired
	CauseTypeFieldValueTooLong       = meta.CauseTypeFieldValueTooLong
	CauseTypeResourceVersionTooLarge = meta.CauseTypeResourceVersionTooLarge
	ConditionFalse                   = meta.ConditionFalse
	ConditionTrue                    = meta.ConditionTrue
	ConditionUnknown                 = meta.ConditionUnknown
	Deleted                          = meta.Deleted
	Error                            = meta.Error
	InitialEventsEndAnnotation       = meta.InitialEventsEndAnnotation
	Modified                         = meta.Modified
	OpDoesNotExist                   = meta.OpDoesNotExist
	OpDoubleEquals                   = meta.OpDoubleEquals
	OpEquals                         = meta.OpEquals
	OpExists                         = meta.OpExists
	OpGreaterThan                    = meta.OpGreaterThan
	OpIn                             = meta.OpIn
	OpLessThan                       = meta.OpLessThan
	OpNotEquals                      = meta.OpNotEquals
	OpNotIn                          = meta.OpNotIn
	ReasonAlreadyExists              = meta.ReasonAlreadyExists
	ReasonBadRequest                 = meta.ReasonBadRequest
	ReasonConflict                   = meta.ReasonConflict
	ReasonExpired                    = meta.ReasonExpired
	ReasonForbidden                  = meta.ReasonForbidden
	ReasonInternalError              = meta.ReasonInternalError
	ReasonInvalid                    = meta.ReasonInvalid
	ReasonNotFound                   = meta.ReasonNotFound
	ReasonServiceUnavailable         = meta.ReasonServiceUnavailable
	ReasonTimeout                    = meta.ReasonTimeout
	ReasonTooManyRequests            = meta.ReasonTooManyRequests
	ReasonUnauthorized               = meta.ReasonUnauthorized
	StatusFailure                    = meta.StatusFailure
	StatusSuccess                    = meta.StatusSuccess
)

// Errors moved to meta.
var (
	ErrAlreadyExists      = meta.ErrAlreadyExists
	ErrBadRequest         = meta.ErrBadRequest
	ErrConflict           = meta.ErrConflict
	ErrExpired            = meta.ErrExpired
	ErrForbidden          = meta.ErrForbidden
	ErrInternal           = meta.ErrInternal
	ErrInvalid            = meta.ErrInvalid
	ErrInvalidOwner       = meta.ErrInvalidOwner
	ErrNotFound           = meta.ErrNotFound
	ErrServiceUnavailable = meta.ErrServiceUnavailable
	ErrTimeout            = meta.ErrTimeout
	ErrTooManyRequests    = meta.ErrTooManyRequests
	ErrUnauthorized       = meta.ErrUnauthorized
)

// Functions moved to meta.
var (
	AddFinalizer                     = meta.AddFinalizer
	ContainsFinalizer                = meta.ContainsFinalizer
	ControllerOf                     = meta.ControllerOf
	EverythingFields                 = meta.EverythingFields
	EverythingLabels                 = meta.EverythingLabels
	FindStatusCondition              = meta.FindStatusCondition
	FormatResourceVersion            = meta.FormatResourceVersion
	FromStatus                       = meta.FromStatus
	HasControllerReference           = meta.HasControllerReference
	IsControlledBy                   = meta.IsControlledBy
	IsStatusConditionCurrent         = meta.IsStatusConditionCurrent
	IsStatusConditionFalse           = meta.IsStatusConditionFalse
	IsStatusConditionPresentAndEqual = meta.IsStatusConditionPresentAndEqual
	IsStatusConditionTrue            = meta.IsStatusConditionTrue
	LabelSelectorFromSet             = meta.LabelSelectorFromSet
	NameOf                           = meta.NameOf
	NewAlreadyExists                 = meta.NewAlreadyExists
	NewBadRequest                    = meta.NewBadRequest
	NewConflict                      = meta.NewConflict
	NewExpired                       = meta.NewExpired
	NewForbidden                     = meta.NewForbidden
	NewInternalError                 = meta.NewInternalError
	NewInvalid                       = meta.NewInvalid
	NewMicroTime                     = meta.NewMicroTime
	NewNotFound                      = meta.NewNotFound
	NewServiceUnavailable            = meta.NewServiceUnavailable
	NewTime                          = meta.NewTime
	NewTimeout                       = meta.NewTimeout
	NewTooManyRequests               = meta.NewTooManyRequests
	NewUnauthorized                  = meta.NewUnauthorized
	ParseFieldSelector               = meta.ParseFieldSelector
	ParseLabelSelector               = meta.ParseLabelSelector
	ParseResourceVersion             = meta.ParseResourceVersion
	ReasonOf                         = meta.ReasonOf
	RemoveFinalizer                  = meta.RemoveFinalizer
	RemoveStatusCondition            = meta.RemoveStatusCondition
	SetControllerReference           = meta.SetControllerReference
	SetOwnerReference                = meta.SetOwnerReference
	SetStatusCondition               = meta.SetStatusCondition
)

// DeepCopy is [meta.DeepCopy], moved to meta.
func DeepCopy[T Object](obj T) T { return meta.DeepCopy(obj) }
