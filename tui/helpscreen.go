package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// helpScreen is the overlay of every key, drawn from the key map, and the
// commands of the send box.
type helpScreen struct {
	st       *Styles
	keys     *KeyMap
	help     help.Model
	commands []Command // nil without a send box
	live     bool
	off      int // first line drawn
	width    int
	height   int
	out      outbox
}

func newHelpScreen(st *Styles, keys *KeyMap, commands []Command, live bool) helpScreen {
	h := help.New()
	h.Styles = st.helpStyles()
	return helpScreen{st: st, keys: keys, help: h, commands: commands, live: live}
}

// restyle takes the style sheet anew (the terminal said its background).
func (h *helpScreen) restyle(st *Styles) { h.help.Styles = st.helpStyles() }

func (h *helpScreen) SetSize(w, height int) {
	h.width, h.height = w, height
	h.help.SetWidth(w)
	h.scroll(0)
}

// Open shows the screen from its top.
func (h *helpScreen) Open() { h.off = 0 }

// Update scrolls; ?, esc and q put the screen away.
func (h helpScreen) Update(msg tea.Msg) (helpScreen, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return h, nil
	}
	page := max(1, h.height-1)
	switch km := h.keys; {
	case key.Matches(k, km.Help, km.Leave, km.Quit):
		h.out.post(closeOverlayMsg{})
	case key.Matches(k, km.Up):
		h.scroll(-1)
	case key.Matches(k, km.Down):
		h.scroll(1)
	case key.Matches(k, km.PageUp):
		h.scroll(-page)
	case key.Matches(k, km.PageDown):
		h.scroll(page)
	}
	return h, nil
}

func (h *helpScreen) scroll(delta int) {
	lines := strings.Count(h.content(), "\n") + 1
	h.off = max(0, min(h.off+delta, lines-h.height))
}

// View draws the screen from the line scrolled to, h.height lines.
func (h helpScreen) View() string {
	ls := strings.Split(h.content(), "\n")
	return block(strings.Join(ls[min(h.off, len(ls)):], "\n"), h.height, h.width)
}

// content is every key from the key map, then the slash commands of the
// send box.
func (h *helpScreen) content() string {
	var groups []string
	for _, g := range h.keys.fullHelp(h.live) {
		groups = append(groups, h.help.FullHelpView([][]key.Binding{g}))
	}
	// As many groups side by side as fit, the rest below.
	var rows []string
	var line []string
	w := 0
	for _, g := range groups {
		gw := lipgloss.Width(g) + 4
		if len(line) > 0 && w+gw > h.width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...))
			line, w = nil, 0
		}
		line = append(line, lipgloss.NewStyle().PaddingRight(4).Render(g))
		w += gw
	}
	if len(line) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, line...))
	}
	out := h.st.Header.Render("keys") + "\n" + strings.Join(rows, "\n\n")
	if h.live {
		out += "\n\n" + h.st.Header.Render("commands in the send box") + "\n"
		cmds := append(append([]Command(nil), h.commands...), Command{Name: "/text", Help: "send \"/text\""})
		for _, c := range cmds {
			u := "/" + c.Name
			if c.Args != "" {
				u += " " + c.Args
			}
			out += h.st.HelpKey.Render(pad(u, 28)) + " " + h.st.HelpDesc.Render(c.Help) + "\n"
		}
	}
	return out
}
