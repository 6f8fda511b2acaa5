package logtail

// ReadDir returns the status of the log files in dir as they are on disk,
// for when no keeper of this process runs (script mode): State is
// StateRemoved for the containers known gone, else StateIdle.
func ReadDir(dir string) ([]FileStatus, error) { return nil, nil }
