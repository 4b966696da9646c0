package main

import (
	"time"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
)

// APIVersion is the group and version of the example's types.
const APIVersion = "backup.example.io/v1"

// Backup asks for a copy of Spec.Source every Spec.Every: the Backup
// controller runs a [BackupJob] for each copy.
type Backup struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            BackupSpec   `json:"spec"`
	Status          BackupStatus `json:"status,omitzero"`
}

// BackupSpec is the desired state of a [Backup].
type BackupSpec struct {
	// Source names what to copy.
	Source string `json:"source"`
	// Every is the time between two copies, at least a second.
	Every meta.Duration `json:"every"`
}

// BackupStatus is the observed state of a [Backup].
type BackupStatus struct {
	// ObservedGeneration is the generation of the spec last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions holds the "Scheduled" condition.
	Conditions []meta.Condition `json:"conditions,omitempty"`
	// LastJob names the newest BackupJob.
	LastJob string `json:"lastJob,omitempty"`
	// Jobs counts the BackupJobs the Backup owns.
	Jobs int `json:"jobs,omitempty"`
}

// BackupJob is one copy of a [Backup]'s source, owned by the Backup.
// Nothing runs it here: it stands for the Job a real operator would start.
type BackupJob struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            BackupJobSpec `json:"spec"`
}

// BackupJobSpec describes a [BackupJob].
type BackupJobSpec struct {
	// Source names what the job copies.
	Source string `json:"source"`
}

// BackupResource describes Backups to a [store.Store]; it refuses an
// Every under a second.
func BackupResource() store.Resource[*Backup] {
	return store.Resource[*Backup]{
		Name: "backups", Kind: "Backup", APIVersion: APIVersion, Namespaced: true,
		Validate: func(b *Backup) []meta.Cause {
			if b.Spec.Every.Duration < time.Second {
				return []meta.Cause{{Field: "spec.every", Type: meta.CauseTypeFieldValueInvalid, Message: "must be at least 1s"}}
			}
			return nil
		},
	}
}

// BackupJobResource describes BackupJobs to a [store.Store].
func BackupJobResource() store.Resource[*BackupJob] {
	return store.Resource[*BackupJob]{Name: "backupjobs", Kind: "BackupJob", APIVersion: APIVersion, Namespaced: true}
}
