package codec

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Web UI (2.42) cannot send a static bearer token to a codec server: it
// sends either the signed-in user's access token (its own OIDC login) or,
// with "include cross-origin credentials", the browser's cookies. So a
// codec server protected by a token lets a person sign in once: they open
// LoginPath in the browser and enter the token (or open LoginPath?token=…),
// and the server sets a session cookie that the Web UI's requests then
// carry. The cookie holds an expiry and an HMAC of it keyed by the token,
// not the token: it lapses after SessionTTL, and a new token voids it.
const (
	LoginPath         = "/login"
	LogoutPath        = "/logout"
	SessionCookie     = "imagefleet_codec_session"
	DefaultSessionTTL = 12 * time.Hour
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>imagefleet codec server</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>imagefleet codec server</h1>
{{if .SignedIn}}<p id="status">Signed in until {{.Until}}. The Web UI decodes payloads through this server now
(its codec settings need "Include cross-origin credentials"). You can close this tab.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
{{else}}{{if .Failed}}<p id="status" style="color: #b00">Wrong token.</p>{{else}}<p id="status">Enter the codec server's token
to let this browser's Web UI decode payloads.</p>{{end}}
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" autofocus>
<button type="submit">Sign in</button></form>{{end}}
</body></html>
`))

type loginView struct {
	SignedIn, Failed bool
	Until            string
}

// login shows the form (GET), or checks the token (POST form field
// "token", or GET ?token=) and sets the session cookie.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := ""
	switch r.Method {
	case http.MethodGet:
		token = r.URL.Query().Get("token")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, http.StatusBadRequest, "login: %v", err)
			return
		}
		token = r.PostFormValue("token")
	default:
		w.Header().Set("Allow", "GET, POST")
		s.fail(w, r, http.StatusMethodNotAllowed, "%s needs GET or POST, got %s", r.URL.Path, r.Method)
		return
	}
	if s.opts.Token == "" {
		s.page(w, http.StatusOK, loginView{SignedIn: true, Until: "the server restarts with a token (it has none: every request is served)"})
		return
	}
	if token == "" {
		if s.validSession(r) {
			s.page(w, http.StatusOK, loginView{SignedIn: true, Until: "the session cookie expires"})
			return
		}
		s.page(w, http.StatusOK, loginView{})
		return
	}
	if !s.tokenMatches(strings.TrimSpace(token)) {
		s.opts.Logger.Warn().Str("path", r.URL.Path).Msg("login with a wrong token")
		s.page(w, http.StatusUnauthorized, loginView{Failed: true})
		return
	}
	until := time.Now().Add(s.sessionTTL())
	http.SetCookie(w, s.cookie(r, s.sessionValue(until), until))
	s.opts.Logger.Info().Time("until", until).Msg("browser signed in")
	s.page(w, http.StatusOK, loginView{SignedIn: true, Until: until.UTC().Format(time.RFC1123)})
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	c := s.cookie(r, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
	s.page(w, http.StatusOK, loginView{})
}

func (s *server) page(w http.ResponseWriter, status int, v loginView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, v)
}

func (s *server) sessionTTL() time.Duration {
	if s.opts.SessionTTL > 0 {
		return s.opts.SessionTTL
	}
	return DefaultSessionTTL
}

// cookie is the session cookie for value. Over HTTPS it is Secure and
// SameSite=None, so a Web UI on another site may send it; over plain HTTP
// (the local stack) browsers accept only SameSite=Lax, which a Web UI on
// the same host (localhost:8233 → localhost:8234) sends.
func (s *server) cookie(r *http.Request, value string, until time.Time) *http.Cookie {
	secure := r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", Expires: until, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode}
	if secure {
		c.SameSite = http.SameSiteNoneMode
	}
	return c
}

func (s *server) sessionValue(until time.Time) string {
	exp := strconv.FormatInt(until.Unix(), 10)
	return exp + "." + s.sessionMAC(exp)
}

func (s *server) sessionMAC(exp string) string {
	m := hmac.New(sha256.New, []byte(s.opts.Token))
	fmt.Fprintf(m, "imagefleet codec session %s", exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validSession reports whether r carries an unexpired session cookie made
// with the current token.
func (s *server) validSession(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil || s.opts.Token == "" {
		return false
	}
	exp, mac, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Now().After(time.Unix(secs, 0)) {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(s.sessionMAC(exp)))
}
