package tui

// LoadHistory reads the send history the TUI keeps at path, newest last,
// for the line mode to share it.
func LoadHistory(path string) ([]string, error) { return loadHistory(path, historyLimit) }

// AppendHistory adds one line to the history file at path.
func AppendHistory(path, line string) error { return appendHistory(path, line) }
