package main

import (
	"time"

	"github.com/governor-io/governor/store"
)

// APIVersion is the group and version of the example's types.
const APIVersion = "backup.example.io/v1"

// Backup asks for a copy of Spec.Source every Spec.Every.
type Backup struct {
	store.TypeMeta
	store.ObjectMeta `json:"metadata"`
	Spec             BackupSpec   `json:"spec"`
	Status           BackupStatus `json:"status,omitzero"`
}

// BackupSpec is the desired state of a [Backup].
type BackupSpec struct {
	Source string   `json:"source"`
	Every  Duration `json:"every"` // the operator's own Duration: the store had none
}

// BackupStatus is the observed state of a [Backup].
type BackupStatus struct {
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Conditions         []Condition `json:"conditions,omitempty"` // the operator's own Condition
	LastJob            string      `json:"lastJob,omitempty"`
	Jobs               int         `json:"jobs,omitempty"`
}

// BackupJob is one copy of a [Backup]'s source, owned by the Backup.
type BackupJob struct {
	store.TypeMeta
	store.ObjectMeta `json:"metadata"`
	Spec             BackupJobSpec `json:"spec"`
}

// BackupJobSpec describes a [BackupJob].
type BackupJobSpec struct {
	Source string `json:"source"`
}

// BackupResource describes Backups to a [store.Store].
func BackupResource() store.Resource[*Backup] {
	return store.Resource[*Backup]{
		Name: "backups", Kind: "Backup", APIVersion: APIVersion, Namespaced: true,
		Validate: func(b *Backup) []store.Cause {
			if b.Spec.Every.Duration < time.Second {
				return []store.Cause{{Field: "spec.every", Type: store.CauseTypeFieldValueInvalid, Message: "must be at least 1s"}}
			}
			return nil
		},
	}
}

// BackupJobResource describes BackupJobs to a [store.Store].
func BackupJobResource() store.Resource[*BackupJob] {
	return store.Resource[*BackupJob]{Name: "backupjobs", Kind: "BackupJob", APIVersion: APIVersion, Namespaced: true}
}
