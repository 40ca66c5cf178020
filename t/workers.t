# t/workers.t: two workers share sessions and projects through the shared
# zone (master_process on, worker_processes 2), and `nginx -s reload` (HUP)
# keeps sessions and published loads.  A second listener with `reuseport`
# spreads connections over both workers; `X-Worker: $pid` tells which one
# answered, so the test can insist that both did.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use IO::Socket::INET;

no_shuffle();
master_on();
workers(2);

# a free port for the reuseport listener, the same under either harness
$ENV{TEST_NGINX_REUSEPORT_PORT} ||= do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    my $p = $s->sockport; close $s; $p
};

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/reload.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_REUSEPORT_PORT reuseport;
        location /v1/ {
            ddt_api;
            add_header X-Worker $pid always;
        }
    }
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

sub spread {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_REUSEPORT_PORT})
        or die "connect: $!";
    print {$s} DDTTest::raw_request($method, $path, $body);
    local $/;
    my $buf = <$s>;
    close $s;
    my $r = DDTTest::parse($buf // '');
    ($r->{worker}) = $r->{head} =~ /^X-Worker:\s*(\d+)/mi;
    return $r;
}

sub v2 {
    my $p = do {
        local $/;
        open my $f, '<', "$ENV{TEST_NGINX_DDT_PROJECTS}/reload.json" or die;
        <$f>
    };
    $p =~ s/"version": "v1"/"version": "v2"/;
    $p =~ s/Version one\./Version two./;
    $p =~ s/One: /Two: /;
    return $p;
}

run_tests();

__DATA__

=== TEST 1: turns on one session alternate between two workers and never lose a version
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"workers-0001\"}",
"GET /v1/sessions/workers-0001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my (%turn_workers, %get_workers, @bad);
        my $expect = 1;
        for my $i (1 .. 30) {
            my $t = main::spread('POST', '/v1/sessions/workers-0001/turns',
                                 "{\"text\": \"n$i\"}");
            my $j = DDTTest::decode($t->{body}) || {};
            $expect++;
            push @bad, "turn $i: $t->{code} v" . ($j->{version} // '?')
                unless $t->{code} == 200 && ($j->{version} // 0) == $expect
                       && ($j->{messages}[0]{text} // '') eq "You said n$i.";
            $turn_workers{$t->{worker} // '?'}++;
            my $g = main::spread('GET', '/v1/sessions/workers-0001');
            my $gj = DDTTest::decode($g->{body}) || {};
            push @bad, "get $i: $g->{code} v" . ($gj->{version} // '?')
                unless $g->{code} == 200 && ($gj->{version} // 0) == $expect;
            $get_workers{$g->{worker} // '?'}++;
        }
        Test::More::is("@bad", "", "$name - every turn and GET saw the last version");
        Test::More::cmp_ok(scalar(grep { /^\d+$/ } keys %turn_workers), '==', 2,
                           "$name - both workers ran turns")
            or Test::More::diag(CORE::join ' ', %turn_workers);
        Test::More::cmp_ok(scalar(grep { /^\d+$/ } keys %get_workers), '==', 2,
                           "$name - both workers answered GETs");
    },
}
--- json eval
[ undef, { version => 31, 'memory.echo.what' => undef } ]
--- no_error_log
[error]
[alert]



=== TEST 2: a session created on one worker is found by the other
--- request eval
[
"GET /v1/health",
]
--- error_code eval
[200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my @bad;
        for my $i (1 .. 20) {
            my $id = sprintf "workers-x-%04d", $i;
            my $c = main::spread('POST', '/v1/sessions',
                                 "{\"project\": \"echo\", \"sessionId\": \"$id\"}");
            my ($g, $tries) = (undef, 0);
            # ask until a different worker answers (reuseport hashes by port)
            do {
                $g = main::spread('GET', "/v1/sessions/$id");
            } while (($g->{worker} // '') eq ($c->{worker} // '') && ++$tries < 20);
            push @bad, "$id: create $c->{code} get $g->{code}"
                unless $c->{code} == 201 && $g->{code} == 200;
            push @bad, "$id: never reached the other worker"
                if ($g->{worker} // '') eq ($c->{worker} // '');
        }
        Test::More::is("@bad", "", "$name - created on one worker, read on the other");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 3: HUP (nginx -s reload) keeps sessions and the loads they are pinned to
--- request eval
[
"PUT /v1/projects/reload\n" . main::v2(),
"POST /v1/sessions\n{\"project\": \"reload\", \"sessionId\": \"workers-hup-01\"}",
"GET /v1/sessions/workers-hup-01",
"POST /v1/sessions/workers-hup-01/turns\n{\"text\": \"plum\"}",
"GET /v1/projects",
]
--- error_code eval
[201, 201, 200, 200, 200]
--- after eval
{
    1 => sub {
        my $pidfile = Test::Nginx::Socket::server_root() . "/logs/nginx.pid";
        open my $f, '<', $pidfile or die "$pidfile: $!";
        CORE::chomp(my $pid = <$f>);
        my $old = CORE::join ' ', sort map { main::spread('GET', '/v1/health')->{worker} // '' } 1 .. 10;
        kill 'HUP', $pid;
        # wait until the workers have been replaced
        my $t0 = time;
        my %seen;
        while (time - $t0 < 10) {
            select undef, undef, undef, 0.2;
            my $w = main::spread('GET', '/v1/health')->{worker} // '';
            last if $w ne '' && $old !~ /\b$w\b/;
        }
        select undef, undef, undef, 0.5;
    },
}
--- json eval
[
 { version => 'v2' },
 { 'messages.0.text' => 'Version two.' },
 { version => 1, projectVersion => 'v2', status => 'waiting' },
 { version => 2, status => 'ended', 'messages.0.text' => 'Two: plum.' },
 { projects => qr/"name":"reload"/ },
]
--- no_error_log
[error]



=== TEST 4: a PUT on one worker is current on every worker at once
--- request eval
[
"POST /v1/sessions\n{\"project\": \"reload\", \"sessionId\": \"workers-put-01\"}",
"PUT /v1/projects/reload\n" . main::v2(),
"POST /v1/sessions/workers-put-01/turns\n{\"text\": \"fig\"}",
]
--- error_code eval
[201, 201, 200]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        my (%workers, @bad);
        for my $i (1 .. 20) {
            my $id = sprintf "workers-put-%04d", $i + 100;
            my $r = main::spread('POST', '/v1/sessions',
                                 "{\"project\": \"reload\", \"sessionId\": \"$id\"}");
            my $j = DDTTest::decode($r->{body}) || {};
            push @bad, "$id: $r->{code} " . ($j->{messages}[0]{text} // '')
                unless $r->{code} == 201
                       && ($j->{messages}[0]{text} // '') eq 'Version two.';
            $workers{$r->{worker} // '?'}++;
        }
        Test::More::is("@bad", "", "$name - new sessions get the new load on every worker");
        Test::More::cmp_ok(scalar(grep { /^\d+$/ } keys %workers), '==', 2,
                           "$name - both workers created sessions");
    },
}
--- json eval
[ { 'messages.0.text' => 'Version one.' }, { version => 'v2' },
  { status => 'ended', 'messages.0.text' => 'One: fig.' } ]
--- no_error_log
[error]
