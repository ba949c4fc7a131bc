// probe is tenkai's test workload and network probe, one static binary:
//
//	probe serve [--http :8080] [--tcp :9000] [--udp :9001] [--ready-after D] [--shutdown-delay D]
//	probe connect --tcp HOST:PORT [--timeout D] [--retry-for D]   exit 0 connected, 1 not
//	probe http URL [--timeout D]                    exit 0 on a 2xx answer, 1 otherwise
//	probe dns NAME [--server IP] [--timeout D]      exit 0 when NAME resolves, 1 otherwise
//	probe load --url URL --rps N --duration D       exit 0 when every request got a 2xx answer
//	probe sleep D                                   (for preStop hooks)
//
// Every subcommand except serve and sleep prints one JSON object on stdout. serve answers
// GET / with {pod,namespace,node,remote} (from POD_NAME, POD_NAMESPACE, NODE_NAME), /healthz, and
// /readyz (503 until --ready-after has passed, and again from SIGTERM until --shutdown-delay has
// passed and the servers stop); it logs one JSON line per request and per lifecycle step.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe serve|connect|http|dns|load|sleep [flags] (see the source header)")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var code int
	switch cmd {
	case "serve":
		code = serve(args)
	case "connect":
		code = connect(args)
	case "http":
		code = httpGet(args)
	case "dns":
		code = dns(args)
	case "load":
		code = load(args)
	case "sleep":
		code = sleep(args)
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown subcommand %q\n", cmd)
		code = 2
	}
	os.Exit(code)
}

// parse parses flags that may come before or after one positional argument.
func parse(fs *flag.FlagSet, args []string) []string {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			os.Exit(2)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func logLine(event string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	fields["event"] = event
	emit(fields)
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	httpAddr := fs.String("http", ":8080", "HTTP listen address (empty: none)")
	tcpAddr := fs.String("tcp", "", "TCP echo listen address (empty: none)")
	udpAddr := fs.String("udp", "", "UDP echo listen address (empty: none)")
	readyAfter := fs.Duration("ready-after", 0, "report not ready for this long after start")
	shutdownDelay := fs.Duration("shutdown-delay", 0, "after SIGTERM, keep serving (not ready) this long")
	parse(fs, args)

	start := time.Now()
	var terminating atomic.Bool
	identity := map[string]string{
		"pod": envOr("POD_NAME", hostname()), "namespace": os.Getenv("POD_NAMESPACE"), "node": os.Getenv("NODE_NAME"),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if terminating.Load() || time.Since(start) < *readyAfter {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]string{"remote": r.RemoteAddr, "path": r.URL.RequestURI()}
		for k, v := range identity {
			out[k] = v
		}
		logLine("request", map[string]any{"remote": r.RemoteAddr, "path": r.URL.RequestURI()})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})

	var servers []*http.Server
	var listeners []io.Closer
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "probe serve: %s: %v\n", what, err)
		return 1
	}
	if *httpAddr != "" {
		l, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fail("http", err)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(l)
	}
	if *tcpAddr != "" {
		l, err := net.Listen("tcp", *tcpAddr)
		if err != nil {
			return fail("tcp", err)
		}
		listeners = append(listeners, l)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); io.Copy(c, c) }()
			}
		}()
	}
	if *udpAddr != "" {
		pc, err := net.ListenPacket("udp", *udpAddr)
		if err != nil {
			return fail("udp", err)
		}
		listeners = append(listeners, pc)
		go func() {
			buf := make([]byte, 65535)
			for {
				n, addr, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(buf[:n], addr)
			}
		}()
	}
	logLine("serving", map[string]any{"http": *httpAddr, "tcp": *tcpAddr, "udp": *udpAddr, "pod": identity["pod"]})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	s := <-sig
	terminating.Store(true)
	logLine("terminating", map[string]any{"signal": s.String(), "shutdownDelay": shutdownDelay.String()})
	time.Sleep(*shutdownDelay)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(ctx)
	}
	for _, l := range listeners {
		l.Close()
	}
	logLine("stopped", nil)
	return 0
}

func connect(args []string) int {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	target := fs.String("tcp", "", "HOST:PORT")
	timeout := fs.Duration("timeout", 3*time.Second, "connect timeout")
	retryFor := fs.Duration("retry-for", 0, "keep trying (every 200 ms) until connected or this long has passed")
	parse(fs, args)
	if *target == "" {
		fmt.Fprintln(os.Stderr, "usage: probe connect --tcp HOST:PORT [--timeout D] [--retry-for D]")
		return 2
	}
	t0 := time.Now()
	c, err := net.DialTimeout("tcp", *target, *timeout)
	// A new pod's address reaches the NetworkPolicy agent's address sets a moment after it starts.
	for err != nil && time.Since(t0) < *retryFor {
		time.Sleep(200 * time.Millisecond)
		c, err = net.DialTimeout("tcp", *target, *timeout)
	}
	res := map[string]any{"target": *target, "connected": err == nil, "ms": time.Since(t0).Milliseconds()}
	if err != nil {
		res["error"] = err.Error()
		emit(res)
		return 1
	}
	res["local"] = c.LocalAddr().String()
	c.Close()
	emit(res)
	return 0
}

func httpGet(args []string) int {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "request timeout")
	pos := parse(fs, args)
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: probe http URL [--timeout D]")
		return 2
	}
	client := &http.Client{Timeout: *timeout}
	t0 := time.Now()
	resp, err := client.Get(pos[0])
	res := map[string]any{"url": pos[0]}
	if err != nil {
		res["error"] = err.Error()
		res["ms"] = time.Since(t0).Milliseconds()
		emit(res)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	res["status"] = resp.StatusCode
	res["ms"] = time.Since(t0).Milliseconds()
	var parsed any
	if json.Unmarshal(body, &parsed) == nil {
		res["body"] = parsed
	} else {
		res["body"] = strings.TrimSpace(string(body))
	}
	emit(res)
	if resp.StatusCode/100 != 2 {
		return 1
	}
	return 0
}

func dns(args []string) int {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	server := fs.String("server", "", "DNS server IP (default: the system resolver)")
	timeout := fs.Duration("timeout", 5*time.Second, "lookup timeout")
	pos := parse(fs, args)
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: probe dns NAME [--server IP] [--timeout D]")
		return 2
	}
	r := net.DefaultResolver
	if *server != "" {
		addr := *server
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, "53")
		}
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	addrs, err := r.LookupHost(ctx, pos[0])
	res := map[string]any{"name": pos[0], "server": *server, "addresses": addrs}
	if err != nil {
		res["error"] = err.Error()
		emit(res)
		return 1
	}
	emit(res)
	return 0
}

func load(args []string) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", "", "URL to GET")
	rps := fs.Int("rps", 10, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	timeout := fs.Duration("timeout", 2*time.Second, "per-request timeout")
	parse(fs, args)
	if *url == "" || *rps <= 0 {
		fmt.Fprintln(os.Stderr, "usage: probe load --url URL --rps N --duration D [--timeout D]")
		return 2
	}
	// A fresh connection per request, as a load balancer spreading over endpoints would see it:
	// kept-alive connections would pin to one endpoint and hide a dropped one.
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var mu sync.Mutex
	var sent, failed int
	errs := map[string]int{}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*rps))
	defer tick.Stop()
	// Exactly rps x duration requests, one per tick: a slow answer never delays the next request.
	total := int(float64(*rps) * duration.Seconds())
	for i := 0; i < total; i++ {
		if i > 0 {
			<-tick.C
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(*url)
			msg := ""
			if err != nil {
				msg = shortErr(err)
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					msg = fmt.Sprintf("HTTP %d", resp.StatusCode)
				}
			}
			mu.Lock()
			sent++
			if msg != "" {
				failed++
				errs[msg]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	emit(map[string]any{"url": *url, "rps": *rps, "duration": duration.String(), "sent": sent, "failed": failed, "errors": errs})
	if failed > 0 {
		return 1
	}
	return 0
}

// shortErr keeps the cause of a request error (refused, timeout, reset) without the URL.
func shortErr(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

func sleep(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: probe sleep DURATION")
		return 2
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe sleep:", err)
		return 2
	}
	time.Sleep(d)
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
