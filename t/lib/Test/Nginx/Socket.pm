package Test::Nginx::Socket;

# t/lib/Test/Nginx/Socket.pm: a small stand-in for Test::Nginx::Socket
# (openresty/test-nginx, on CPAN), used by ./build.sh test only when the real
# one is not installed (Debian does not package it).  It reads the same
# data-driven blocks with Debian's Test::Base and implements the subset of
# sections our t/*.t use, with the same meaning:
#
#   --- main_config --- http_config --- config --- post_main_config
#   --- request (string, or `eval` giving an array: one request after the
#       other, each on its own connection) --- pipelined_requests eval
#   --- raw_request --- more_headers (string or array) --- timeout --- wait
#   --- error_code --- error_code_like --- response_headers
#   --- response_headers_like --- raw_response_headers_like/_unlike
#   --- response_body --- response_body_like --- response_body_unlike
#   --- error_log --- no_error_log --- must_die --- user_files --- log_level
#   --- ignore_response --- SKIP (and Test::Base's ONLY / LAST)
#
# plus master_on(), workers(n), log_level(), repeat_each(), no_shuffle(),
# env_to_nginx(), add_block_preprocessor(), add_response_body_check(),
# server_port(), server_root(), html_dir(), TEST_NGINX_LOAD_MODULES,
# TEST_NGINX_BINARY and $TEST_NGINX_* expansion in configs.
#
# What it does differently, on purpose: nginx runs in the foreground as our
# child (so a crash or an exit is seen at once and nothing is left behind),
# on 127.0.0.1 and a free port, in a temporary prefix; blocks run in file
# order.  It does not own the suites, only how they are run.
#
# Note for readers: Test::Base's Spiffy filter adds `my $self = shift;` to any
# `sub name {` without a prototype, so every sub here has one.

use v5.10.1;
use Test::Base -Base;

use POSIX ();
use Time::HiRes qw(sleep time);
use IO::Socket::INET ();
use IO::Select ();
use File::Temp ();
use File::Path ();
use File::Spec ();
use HTTP::Response ();
use Errno ();

our @EXPORT = qw(
    run_tests run_test repeat_each master_on master_off
    master_process_enabled workers worker_connections log_level no_shuffle
    no_long_string no_root_location config_preamble env_to_nginx timeout
    server_port server_port_for_client server_addr server_root html_dir
    add_block_preprocessor add_response_body_check bail_out
    add_cleanup_handler check_accum_error_log
);

our $Workers = 1;
our $WorkerConnections = 64;
our $MasterProcess = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $RepeatEach = 1;
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $NoRootLocation = 0;
our $ConfigPreamble = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @ResponseBodyChecks;
our @CleanupHandlers;

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || find_nginx();
our $ServerAddr = '127.0.0.1';
our $ServerName = 'localhost';
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || free_port();
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;

our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
    || File::Temp::tempdir('ddt-tnginx-XXXXXX', TMPDIR => 1,
                           CLEANUP => !$ENV{TEST_NGINX_KEEP_SERVROOT});
# workers may run as nobody when we are root: let them reach their temp dirs
chmod 0755, $ServRoot;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $ConfDir = "$ServRoot/conf";
our $LogDir = "$ServRoot/logs";
our $HtmlDir = "$ServRoot/html";
our $ConfFile = "$ConfDir/nginx.conf";
our $ErrLogFile = "$LogDir/error.log";
our $PidFile = "$LogDir/nginx.pid";

# a server that answers early (413) and closes must not kill the client
$SIG{PIPE} = 'IGNORE';

our $NginxPid;          # our child: the nginx master (or single process)
our $NginxExit;
our $RandPorts = {};

# ---- settings the suites call --------------------------------------------

sub repeat_each (@) { $RepeatEach = shift if @_; $RepeatEach }
sub workers (@) { $Workers = shift if @_; $Workers }
sub worker_connections (@) {
    $WorkerConnections = shift if @_; $WorkerConnections
}
sub log_level (@) { $LogLevel = shift if @_; $LogLevel }
sub master_on () { $MasterProcess = 'on' }
sub master_off () { $MasterProcess = 'off' }
sub master_process_enabled (@) {
    $MasterProcess = (shift() ? 'on' : 'off') if @_;
    $MasterProcess eq 'on'
}
sub no_shuffle () { }
sub no_long_string () { }
sub no_root_location () { $NoRootLocation = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub env_to_nginx (@) { push @EnvToNginx, @_ }
sub timeout (@) { $Timeout = shift if @_; $Timeout }
sub server_port (@) { $ServerPort = shift if @_; $ServerPort }
sub server_port_for_client (@) { server_port(@_) }
sub server_addr (@) { $ServerAddr }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }
sub add_cleanup_handler ($) { push @CleanupHandlers, shift }

sub bail_out (@) {
    stop_nginx();
    Test::More::BAIL_OUT(join '', @_);
}

# ---- helpers ---------------------------------------------------------------

sub find_nginx () {
    for my $d (split(/:/, $ENV{PATH} // ''), '/usr/sbin', '/usr/local/sbin') {
        return "$d/nginx" if -x "$d/nginx";
    }
    return 'nginx';
}

sub free_port () {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "cannot find a free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub expand_env ($$) {
    my ($text, $name) = @_;
    return $text if !defined $text || ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $v = $1;
        if ($v =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $RandPorts->{$v} //= free_port();
        } elsif (!defined $ENV{$v}) {
            bail_out("$name - no environment $v defined");
        } else {
            $ENV{$v};
        }
    }ge;
    return $text;
}

# The value for request number $idx: arrays give one value per request.
# As in Test::Nginx, several requests need an array of expected values.
sub indexed ($$$) {
    my ($v, $idx, $multi) = @_;
    return $v->[$idx] if ref $v eq 'ARRAY';
    bail_out("you asked for many requests, the expected results should be"
             . " arrays as well") if $multi;
    return $v;
}

sub headers_for ($$) {
    my ($more, $idx) = @_;
    return ref $more eq 'ARRAY' ? $more->[$idx] : $more;
}

sub read_file ($) {
    my $f = shift;
    open my $in, '<', $f or return '';
    local $/;
    my $s = <$in>;
    close $in;
    return $s // '';
}

# As in Test::Nginx, each check sees only the lines logged since the last
# one (unless check_accum_error_log()), so in a block with several requests
# `--- error_log` must match in every request's window.
our $ErrLogPos = 0;
our $AccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};

sub check_accum_error_log () { $AccumErrLog = 1 }

sub error_log_lines () {
    sleep 0.02;     # lines of the log phase come after the answer
    my $all = read_file($ErrLogFile);
    my $new = $AccumErrLog ? $all : substr($all, $ErrLogPos);
    $ErrLogPos = length $all unless $AccumErrLog;
    return [split /^/m, $new];
}

# ---- nginx ---------------------------------------------------------------

sub write_config ($) {
    my $block = shift;
    my $name = $block->name;

    my $main = expand_env($block->main_config // '', $name);
    if (my $mods = $ENV{TEST_NGINX_LOAD_MODULES}) {
        $main = join('', map { "load_module $_;\n" } grep { $_ }
                         split /\s+/, $mods) . $main;
    }
    my $http = expand_env($block->http_config // '', $name);
    my $config = expand_env($block->config // '', $name);
    my $post = expand_env($block->post_main_config // '', $name);
    my $level = $block->log_level // $LogLevel;
    my $env = join '', map { "env $_;\n" } @EnvToNginx;
    my $root = $NoRootLocation ? '' :
        "        location / {\n            root $HtmlDir;\n"
        . "            index index.html index.htm;\n        }\n";
    my $temps = join ' ', map { "${_}_temp_path $ServRoot/${_}_temp;" }
                grep { $http !~ /\b${_}_temp_path\b/ }
                qw(client_body proxy fastcgi scgi uwsgi);

    File::Path::make_path($ConfDir, $LogDir, $HtmlDir);
    open my $out, '>', $ConfFile or bail_out("cannot write $ConfFile: $!");
    print $out <<_EOC_;
worker_processes  $Workers;
daemon off;
master_process $MasterProcess;
error_log $ErrLogFile $level;
pid       $PidFile;
$env
$main

http {
    access_log $LogDir/access.log;
    $temps
    default_type text/plain;
    keepalive_timeout  68s;

$http
    server {
        listen          $ServerAddr:$ServerPort;
        server_name     '$ServerName';
        client_max_body_size 30M;

$ConfigPreamble
$config

$root    }
}

$post

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
_EOC_
    close $out;
}

sub write_user_files ($) {
    my $block = shift;
    my $files = $block->user_files or return;
    my @parts = split /^>>> (\S+)\n/m, $files;
    shift @parts;
    while (@parts) {
        my ($f, $body) = splice @parts, 0, 2;
        my $path = "$HtmlDir/$f";
        File::Path::make_path((File::Spec->splitpath($path))[1]);
        open my $out, '>', $path or bail_out("cannot write $path: $!");
        print $out $body;
        close $out;
    }
}

sub child_gone () {
    return 1 unless $NginxPid;
    my $r = waitpid($NginxPid, POSIX::WNOHANG());
    if ($r == $NginxPid || $r == -1) {
        $NginxExit = $?;
        undef $NginxPid;
        return 1;
    }
    return 0;
}

# Graceful stop (QUIT), then fast (TERM) if requests hang, then KILL of the
# whole process group (nginx runs in its own), so no orphaned worker keeps
# the port for the next block.
sub stop_nginx () {
    return unless $NginxPid;
    my $pid = $NginxPid;
    my @plan = (['QUIT', 3], ['TERM', 2]);
    while (!child_gone()) {
        my $step = shift @plan;
        if (!$step) {
            kill 'KILL', -$pid;
            waitpid($pid, 0);
            undef $NginxPid;
            last;
        }
        kill $step->[0], $pid;
        my $deadline = time + $step->[1];
        sleep 0.01 while !child_gone() && time < $deadline;
    }
    kill 'KILL', -$pid;     # workers left behind by a master that died
    # workers of a killed master: wait until the port is free again
    for (1 .. 200) {
        last unless port_open();
        sleep 0.01;
    }
}

sub port_open () {
    my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                  PeerPort => $ServerPort, Proto => 'tcp',
                                  Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# Start nginx for a block.  Returns the exit status when nginx exited by
# itself before it answered (what --- must_die wants), undef when it runs.
sub start_nginx ($) {
    my $block = shift;
    unlink $ErrLogFile;
    $ErrLogPos = 0;
    my $pid = fork();
    bail_out("fork: $!") unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$LogDir/stderr.log";
        exec($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile,
             '-e', $ErrLogFile) or POSIX::_exit(127);
    }
    $NginxPid = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (child_gone()) {
            return $NginxExit;
        }
        return undef if port_open();
        sleep 0.01;
    }
    bail_out($block->name . " - nginx does not answer on $ServerPort");
}

# ---- HTTP ----------------------------------------------------------------

# Build one raw request from "METHOD URL [VERSION]\nbody" the way Test::Nginx
# does: body trimmed, Content-Length added, Host and Connection defaulted.
sub build_request ($$$) {
    my ($req, $more, $conn) = @_;
    $req =~ s/\A(?:\s*#[^\n]*\n|\s+)+//;
    my ($first, $body) = split /\n/, $req, 2;
    $body //= '';
    my ($meth, $url, $ver) = split ' ', $first;
    $url //= '/';
    $ver //= 'HTTP/1.1';
    my $hdrs = '';
    for my $h (split /\n+/, $more // '') {
        next if $h =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $hdrs .= "$k: " . ($v // '') . "\r\n";
    }
    my $len = '';
    if ($body ne '' && $hdrs !~ /^Content-Length:/mi
        && $hdrs !~ /^Transfer-Encoding:\s*chunked/mi)
    {
        $body =~ s/^\s+|\s+$//gs;
        $len = "Content-Length: " . length($body) . "\r\n";
    }
    my $h = '';
    $h .= "Host: $ServerName\r\n" if $hdrs !~ /^Host:/mi;
    $h .= "Connection: $conn\r\n" if $hdrs !~ /^Connection/mi;
    return "$meth $url $ver\r\n$h$hdrs$len\r\n$body";
}

sub send_raw ($$) {
    my ($raw, $timeout) = @_;
    my @packets = ref $raw ? @$raw : ({ value => $raw });
    my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                  PeerPort => $ServerPort, Proto => 'tcp',
                                  Timeout => $timeout)
        or return (undef, "connect: $!");
    binmode $s;
    PACKET: for my $p (@packets) {
        sleep($p->{delay_before}) if $p->{delay_before};
        my $data = $p->{value};
        my $off = 0;
        while ($off < length $data) {
            my $n = syswrite($s, $data, length($data) - $off, $off);
            if (!defined $n) {
                next if $!{EINTR};
                last PACKET;    # the server may answer early (413), close
            }
            $off += $n;
        }
    }
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time + $timeout;
    while (1) {
        my $left = $deadline - time;
        return ($buf, "timeout ($timeout s)") if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $!{EINTR};
            last if $!{ECONNRESET} && length $buf;
            return ($buf, "read: $!");
        }
        last if $n == 0;
    }
    close $s;
    return ($buf, undef);
}

# Parse one response off the front of $$buf; returns (HTTP::Response, raw
# headers) and leaves what follows in $$buf.
sub parse_response ($$) {
    my ($buf, $is_head) = @_;
    return (undef, '') unless $$buf =~ s/\A(HTTP\/\d\.\d) (\d+)([^\r\n]*)\r\n//;
    my ($code, $msg) = ($2, $3);
    $msg =~ s/^ //;
    my ($raw_headers) = $$buf =~ /\A(.*?\r\n)\r\n/s;
    $raw_headers //= '';
    substr($$buf, 0, length($raw_headers) + 2) = '';
    my @h;
    for my $l (split /\r\n/, $raw_headers) {
        my ($k, $v) = split /:\s*/, $l, 2;
        push @h, $k, $v // '';
    }
    my $res = HTTP::Response->new($code, $msg, \@h);
    my $body = '';
    if ($is_head || $code == 204 || $code == 304 || $code < 200) {
        # no body
    } elsif (($res->header('Transfer-Encoding') // '') =~ /chunked/i) {
        while ($$buf =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            if ($n == 0) {
                $$buf =~ s/\A(?:[^\r\n]+\r\n)*\r\n//;
                last;
            }
            $body .= substr($$buf, 0, $n, '');
            $$buf =~ s/\A\r\n//;
        }
    } elsif (defined(my $len = $res->header('Content-Length'))) {
        $body = substr($$buf, 0, $len, '');
    } else {
        $body = $$buf;
        $$buf = '';
    }
    $res->content($body);
    return ($res, $raw_headers);
}

# ---- checks --------------------------------------------------------------

sub parse_header_spec ($) {
    my $spec = shift;
    my @out;
    for my $l (split /\n+/, $spec // '') {
        next if $l =~ /^\s*(#|$)/;
        if ($l =~ /^\s*!\s*([^:\s]+)\s*$/) {
            push @out, [$1, undef];
        } else {
            my ($k, $v) = split /\s*:\s*/, $l, 2;
            $k =~ s/^\s+//;
            push @out, [$k, $v // ''];
        }
    }
    return @out;
}

sub check_response ($$$$$) {
    my ($block, $res, $raw_headers, $idx, $multi) = @_;
    my $name = $block->name;
    my $code = $res ? $res->code : '';

    if (defined(my $like = $block->error_code_like)) {
        my $p = indexed($like, $idx, $multi);
        Test::More::like($code, qr/$p/sm, "$name - status code ok");
    } else {
        my $want = defined $block->error_code
                   ? indexed($block->error_code, $idx, $multi) : 200;
        Test::More::is($code, $want, "$name - status code ok");
    }

    if (defined(my $p = $block->raw_response_headers_like)) {
        $p = indexed($p, $idx, $multi);
        Test::More::like($raw_headers, qr/$p/s, "$name - raw resp headers like");
    }
    if (defined(my $p = $block->raw_response_headers_unlike)) {
        $p = indexed($p, $idx, $multi);
        Test::More::unlike($raw_headers, qr/$p/s,
                           "$name - raw resp headers unlike");
    }

    if (defined $block->response_headers) {
        for my $kv (parse_header_spec(indexed($block->response_headers,
                                              $idx, $multi)))
        {
            my ($k, $v) = @$kv;
            if (!defined $v) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$k\E\s*:/mi,
                    "$name - header $k not present in the raw headers");
                next;
            }
            $v =~ s/\$ServerPort\b/$ServerPort/g;
            Test::More::is(($res && $res->header($k)) // '', $v,
                           "$name - header $k ok");
        }
    } elsif (defined $block->response_headers_like) {
        for my $kv (parse_header_spec(indexed($block->response_headers_like,
                                              $idx, $multi)))
        {
            my ($k, $v) = @$kv;
            Test::More::like(($res && $res->header($k)) // '', qr/^$v$/,
                             "$name - header $k like ok");
        }
    }

    my $content = $res ? $res->content : undef;
    if (defined $block->response_body) {
        my $want = indexed($block->response_body, $idx, $multi);
        if (ref $want) {
            Test::More::like($content, $want,
                             "$name - response_body - like (req $idx)");
        } else {
            $want =~ s/\$ServerPort\b/$ServerPort/g if defined $want;
            $want = expand_env($want, $name);
            Test::More::is($content, $want,
                           "$name - response_body - response is expected"
                           . " (req $idx)");
        }
    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $like = defined $block->response_body_like;
        my $p = indexed($like ? $block->response_body_like
                              : $block->response_body_unlike, $idx, $multi);
        $p =~ s/\$ServerPort\b/$ServerPort/g;
        my $summary = $content // '';
        $summary =~ s/\s+$//;
        $summary = substr($summary, 0, 300);
        if ($like) {
            Test::More::like($content, qr/$p/s,
                "$name - response_body_like - response is expected ($summary)");
        } else {
            Test::More::unlike($content, qr/$p/s,
                "$name - response_body_unlike - response is expected ($summary)");
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $idx, 0, 0);
    }
}

sub patterns ($) {
    my $p = shift;
    return () unless defined $p;
    return ($p) if ref $p eq 'Regexp';
    return grep { defined } @$p if ref $p eq 'ARRAY';
    chomp $p;
    return split /\n+/, $p;
}

sub line_matches ($$) {
    my ($line, $p) = @_;
    return ref $p ? $line =~ $p : index($line, $p) >= 0;
}

sub check_error_log ($$) {
    my ($block, $idx) = @_;
    my $name = $block->name;
    my $lines = error_log_lines();

    for my $p (patterns($block->error_log)) {
        my $hit = grep { line_matches($_, $p) } @$lines;
        Test::More::ok($hit, "$name - pattern \"$p\" "
                       . ($hit ? "matches a line in error.log"
                               : "should match a line in error.log")
                       . " (req $idx)");
    }
    for my $p (patterns($block->no_error_log)) {
        my ($hit) = grep { line_matches($_, $p) } @$lines;
        if ($hit) {
            chomp $hit;
            Test::More::fail("$name - pattern \"$p\" should not match any "
                             . "line in error.log but matches line \"$hit\""
                             . " (req $idx)");
        } else {
            Test::More::pass("$name - pattern \"$p\" does not match a line in"
                             . " error.log (req $idx)");
        }
    }
    for my $l (@$lines) {
        if ($l =~ /\[(alert|crit|emerg)\]/) {
            my $lv = $1;
            next if grep { line_matches($l, $_) }
                    patterns($block->error_log);
            chomp(my $c = $l);
            Test::More::diag("WARNING: $name - $c");
        }
    }
}

# ---- running -------------------------------------------------------------

sub requests_of ($) {
    my $block = shift;
    my $more = $block->more_headers;
    my @reqs;
    if (defined $block->raw_request) {
        my $r = $block->raw_request;
        push @reqs, ref $r ? join('', @$r) : $r;
    } elsif (defined(my $p = $block->pipelined_requests)) {
        my $raw = '';
        for my $i (0 .. $#$p) {
            $raw .= build_request(expand_env($p->[$i], $block->name),
                                  headers_for($more, $i),
                                  $i == $#$p ? 'close' : 'keep-alive');
        }
        return ([$raw], scalar @$p);
    } else {
        my $r = $block->request;
        bail_out($block->name . " - no --- request") unless defined $r;
        my @list = ref $r ? @$r : ($r);
        for my $i (0 .. $#list) {
            if (!ref $list[$i]) {
                push @reqs, build_request($list[$i], headers_for($more, $i),
                                          'close');
                next;
            }
            # a request given as packets: build it whole, then cut it again
            # at the same distances from its end (the body's tail is never
            # trimmed when the last packet does not end in white space)
            my @p = map { ref $_ ? { %$_ } : { value => $_ } } @{ $list[$i] };
            my $orig = join '', map { $_->{value} } @p;
            my $built = build_request($orig, headers_for($more, $i), 'close');
            my ($left, $start) = (length $orig, 0);
            for my $k (0 .. $#p) {
                $left -= length $p[$k]{value};
                my $end = $k == $#p ? length $built : length($built) - $left;
                $p[$k]{value} = substr($built, $start, $end - $start);
                $start = $end;
            }
            push @reqs, \@p;
        }
    }
    return (\@reqs, 0);
}

sub run_block ($) {
    my $block = shift;
    my $name = $block->name;
    local $LogLevel = $block->log_level // $LogLevel;
    my $timeout = $block->timeout // $Timeout;
    $timeout =~ s/ms$// and $timeout /= 1000;
    $timeout =~ s/s$//;

    stop_nginx();
    write_user_files($block);
    write_config($block);
    my $exit = start_nginx($block);

    if (defined $block->must_die) {
        my $want = $block->must_die;
        if (!defined $exit) {
            Test::More::fail("$name - nginx must die but it does not");
            stop_nginx();
        } elsif ($want =~ /^\d+$/ && $want ne '') {
            Test::More::is($exit >> 8, $want,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($exit, 0, "$name - die as expected");
        }
        check_error_log($block, 0);
        return;
    }
    if (defined $exit) {
        Test::More::fail("$name - nginx exited at start (status $exit): "
                         . read_file($ErrLogFile));
        return;
    }

    for my $rep (0 .. $RepeatEach - 1) {
        my ($reqs, $pipelined) = requests_of($block);
        my $multi = $pipelined || @$reqs > 1;
        my $total = $pipelined || @$reqs;
        my $idx = 0;
        for my $raw (@$reqs) {
            my $is_head = (ref $raw ? $raw->[0]{value} : $raw) =~ /\AHEAD /;
            my ($buf, $err) = send_raw($raw, $timeout);
            if ($err) {
                Test::More::fail("$name - $err (req $idx)");
            }
            my $n = $pipelined || 1;
            while ($n-- > 0) {
                my ($res, $raw_headers) = parse_response(\$buf, $is_head);
                if (!defined $block->ignore_response) {
                    check_response($block, $res, $raw_headers, $idx, $multi);
                }
                $idx++;
                if ($idx < $total) {
                    sleep($block->wait) if $block->wait;
                    check_error_log($block, $idx - 1);
                }
            }
        }
        sleep($block->wait) if $block->wait;
        check_error_log($block, $idx - 1);
    }

    if (child_gone()) {
        Test::More::fail("$name - nginx exited during the block (status "
                         . ($NginxExit // '?') . ")");
    }
}

sub run_tests () {
    if (!-x $NginxBinary && $NginxBinary =~ m{/}) {
        bail_out("no nginx binary at $NginxBinary");
    }
    for my $block (Test::Base::blocks()) {
        $_->($block) for @BlockPreprocessors;
        next if defined $block->SKIP;
        $block->set_value('name', $0 . ' ' . $block->name);
        run_block($block);
    }
    stop_nginx();
    $_->() for @CleanupHandlers;
}

sub run_test ($) {
    my $block = shift;
    run_block($block);
}

END {
    stop_nginx() if $NginxPid;
}

1;
