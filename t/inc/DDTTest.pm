package DDTTest;

# t/inc/DDTTest.pm: what the ddt suites share, on top of Test::Nginx::Socket
# (the real one or t/lib's fallback: only their public hooks are used, so
# the suites run unchanged under both).  It owns:
#
#   - default sections: a block without `--- config` / `--- http_config` /
#     `--- more_headers` gets the suite's defaults (set with defaults());
#   - `--- json eval`: structured checks of a JSON response body, one hash
#     (or one per request in an array) of path => expected value;
#   - `--- after eval`: { request index => sub { ... } } run after that
#     response is checked and before the next request is sent, for what a
#     block cannot express as requests in sequence (two requests at once,
#     thousands of sessions);
#   - http(): a tiny blocking HTTP/1.1 client for those subs.
#
# Paths in `--- json`: keys joined by '.', array indexes as numbers,
# "messages.#" is an array's length.  Expected values: a string or number
# (compared as strings), undef (JSON null), \1 / \0 (true / false), qr//
# (matched), '<absent>' (the key does not exist), '<present>', or an array /
# hash (compared deeply).

use strict;
use warnings;

use Test::More ();
use Test::Nginx::Socket ();
use JSON::PP ();
use Encode ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time sleep);
use FindBin ();
use Cwd ();

$SIG{PIPE} = 'IGNORE';

our %Defaults;
our $Json = JSON::PP->new->allow_nonref->canonical;
our $JsonIn = JSON::PP->new->utf8->allow_nonref;

$ENV{TEST_NGINX_DDT_PROJECTS} ||= Cwd::abs_path("$FindBin::Bin/projects");

# Fixed clock for every suite: today() is 2026-11-26 in Europe/Rome.
our $TestNow = '2026-11-26T10:00:00Z';

our $ApiConfig = <<'_EOC_';
    location /v1/ {
        ddt_api;
    }
    location /v1/projects/ {
        ddt_admin;
    }
    location = /metrics {
        ddt_metrics;
    }
_EOC_

sub defaults {
    my %d = @_;
    %Defaults = (%Defaults, %d);
}

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;
    for my $sec (keys %Defaults) {
        next if defined $block->$sec;
        $block->set_value($sec, $Defaults{$sec});
    }
});

Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $name = $block->name;

    if (defined(my $want = $block->json)) {
        $want = $want->[$idx] if ref $want eq 'ARRAY';
        check_json($name, $body, $want, $idx) if defined $want;
    }
    if (defined(my $after = $block->after)) {
        my $cb = $after->{$idx};
        $cb->($block, $body) if $cb;
    }
});

sub walk {
    my ($doc, $path) = @_;
    my $cur = $doc;
    for my $k (split /\./, $path) {
        if ($k eq '#') {
            return (1, ref $cur eq 'ARRAY' ? scalar @$cur : undef);
        }
        if (ref $cur eq 'HASH') {
            return (0) unless exists $cur->{$k};
            $cur = $cur->{$k};
        } elsif (ref $cur eq 'ARRAY' && $k =~ /^\d+$/) {
            return (0) unless $k < @$cur;
            $cur = $cur->[$k];
        } else {
            return (0);
        }
    }
    return (1, $cur);
}

# Decoded strings back to UTF-8 bytes, booleans to \1 / \0: the form the
# suites write their expectations in.
sub plain {
    my $v = shift;
    if (!ref $v && defined $v) {
        return Encode::encode('UTF-8', $v);
    }
    if (JSON::PP::is_bool($v)) {
        return $v ? \1 : \0;
    }
    if (ref $v eq 'HASH') {
        return { map { $_ => plain($v->{$_}) } keys %$v };
    }
    if (ref $v eq 'ARRAY') {
        return [ map { plain($_) } @$v ];
    }
    return $v;
}

sub check_json {
    my ($name, $body, $want, $idx) = @_;
    my $doc = eval { $JsonIn->decode($body // '') };
    if (!defined $doc && $@) {
        Test::More::fail("$name - json (req $idx): body is not JSON: $@ "
                         . substr($body // '', 0, 200));
        return;
    }
    for my $path (sort keys %$want) {
        my $exp = $want->{$path};
        my ($found, $got) = walk($doc, $path);
        $got = plain($got) if $found && !ref $got;
        my $t = "$name - json $path (req $idx)";
        if (defined $exp && !ref $exp && $exp eq '<absent>') {
            Test::More::ok(!$found, "$t absent");
            next;
        }
        if (!$found) {
            Test::More::fail("$t: not in " . substr($body, 0, 400));
            next;
        }
        if (defined $exp && !ref $exp && $exp eq '<present>') {
            Test::More::pass($t);
        } elsif (!defined $exp) {
            Test::More::ok(!defined $got, "$t is null")
                or Test::More::diag("got: " . $Json->encode($got));
        } elsif (ref $exp eq 'Regexp') {
            Test::More::like(ref $got ? $Json->encode($got) : $got // 'null',
                             $exp, $t);
        } elsif (ref $exp eq 'SCALAR') {
            my $ok = JSON::PP::is_bool($got) && (!!$got == !!$$exp);
            Test::More::ok($ok, "$t is " . ($$exp ? 'true' : 'false'))
                or Test::More::diag("got: " . $Json->encode($got));
        } elsif (ref $exp) {
            Test::More::is_deeply(plain($got), $exp, $t)
                or Test::More::diag("got: " . $Json->encode($got));
        } else {
            Test::More::is(ref $got ? $Json->encode($got) : $got, $exp, $t);
        }
    }
}

# ---- a small client for `--- after` subs ----------------------------------

sub port { Test::Nginx::Socket::server_port() }

# Build the bytes of one request.
sub raw_request {
    my ($method, $path, $body, $headers) = @_;
    $headers //= { 'Content-Type' => 'application/json' };
    my $r = "$method $path HTTP/1.1\r\nHost: localhost\r\n";
    $r .= "$_: $headers->{$_}\r\n" for sort keys %$headers;
    if (defined $body) {
        $r .= "Content-Length: " . length($body) . "\r\n";
    }
    return "${r}Connection: close\r\n\r\n" . ($body // '');
}

sub parse {
    my $buf = shift;
    my ($code) = $buf =~ m{^HTTP/1\.\d (\d+)};
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    $body //= '';
    if (($head // '') =~ /^Transfer-Encoding:\s*chunked/mi) {
        my $out = '';
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/\A\r\n//;
        }
        $body = $out;
    }
    return { code => $code // 0, head => $head // '', body => $body };
}

# Send several requests at once (each on its own connection, all written
# before any answer is read) and return their parsed answers in order.
sub at_once {
    my @raw = @_;
    my @socks;
    for my $r (@raw) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => port(), Proto => 'tcp')
            or die "connect: $!";
        binmode $s;
        push @socks, $s;
    }
    # write everything first, so nginx sees the requests together
    for my $i (0 .. $#raw) {
        my $s = $socks[$i];
        print {$s} $raw[$i];
        $s->flush;
    }
    my @bufs = ('') x @raw;
    my $sel = IO::Select->new(@socks);
    my %idx = map { ($socks[$_] => $_) } 0 .. $#socks;
    my $deadline = time + 15;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.5)) {
            my $n = sysread($s, $bufs[$idx{$s}], 65536, length $bufs[$idx{$s}]);
            if (!$n) {
                $sel->remove($s);
                close $s;
            }
        }
    }
    return map { parse($_) } @bufs;
}

# Several requests one after the other on one keep-alive connection; each
# answer is read by its Content-Length.  Returns [parsed answer, seconds]
# per request (code 0 when no complete answer came within $timeout).
sub keepalive {
    my ($timeout, @reqs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp') or die "connect: $!";
    binmode $s;
    my $sel = IO::Select->new($s);
    my @out;
    my $buf = '';
    for my $req (@reqs) {
        (my $raw = $req) =~ s/Connection: close/Connection: keep-alive/;
        my $t0 = time;
        print {$s} $raw;
        $s->flush;
        my $res;
        while (time - $t0 < $timeout) {
            if ($buf =~ /\A(.*?\r\n\r\n)/s) {
                my $head = $1;
                my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
                $len //= 0;
                if (length($buf) >= length($head) + $len) {
                    $res = parse(substr($buf, 0, length($head) + $len, ''));
                    last;
                }
            }
            next unless $sel->can_read(0.05);
            my $n = sysread($s, $buf, 65536, length $buf);
            last unless $n;
        }
        push @out, [$res // { code => 0, head => '', body => '' }, time - $t0];
    }
    close $s;
    return @out;
}

sub http {
    my ($method, $path, $body, $headers) = @_;
    my ($r) = at_once(raw_request($method, $path, $body, $headers));
    return $r;
}

sub decode {
    my $s = shift;
    my $v = eval { $JsonIn->decode($s) };
    return $v;
}

1;
