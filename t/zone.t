# t/zone.t: a shared zone too small for the sessions it is asked to hold
# (issue 4, SPEC 8): creating sessions keeps working by evicting the least
# recently used ones, nginx never crashes, the error log and the metrics say
# that sessions were evicted, and the newest sessions are intact.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

our $N = 3000;

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_zone_size 256k;
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 30,
);

run_tests();

__DATA__

=== TEST 1: thousands of sessions in a 256k zone: LRU eviction keeps the used one, no crash, metrics and log say so
--- log_level: info
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"zone-first-0001\"}",
"GET /v1/sessions/zone-first-0001",
"GET /v1/sessions/zone-keep-0001",
"GET /v1/sessions/zone-s-003000",
"POST /v1/sessions/zone-s-003000/turns\n{\"text\": \"still here\"}",
"GET /metrics",
"GET /v1/health",
]
--- error_code eval
[201, 404, 200, 200, 200, 200, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my %codes;
        my @bad;
        # a session older than all the others but used all along: LRU
        # eviction keeps it, the untouched zone-first-0001 goes
        DDTTest::http('POST', '/v1/sessions',
                      '{"project": "echo", "sessionId": "zone-keep-0001"}');
        my $kept = 1;
        for my $i (1 .. $main::N) {
            if ($i % 50 == 0) {
                my $t = DDTTest::http('POST', '/v1/sessions/zone-keep-0001/turns',
                                      '{"text": "still using it"}');
                $kept++ if $t->{code} == 200;
            }
            my $id = sprintf "zone-s-%06d", $i;
            my $r = DDTTest::http('POST', '/v1/sessions',
                                  "{\"project\": \"echo\", \"sessionId\": \"$id\"}");
            $codes{$r->{code}}++;
            push @bad, "$id: $r->{code} $r->{body}" if $r->{code} != 201 && @bad < 5;
        }
        Test::More::is(CORE::join(',', map { "$_=$codes{$_}" } sort keys %codes),
                       "201=$main::N", "$name - every create succeeded")
            or Test::More::diag(CORE::join "\n", @bad);
        # the log must say so (read here: a block with several requests
        # checks `--- error_log` in every request's window)
        select undef, undef, undef, 0.2;
        my $log = do {
            local $/;
            open my $f, '<', Test::Nginx::Socket::server_root() . "/logs/error.log";
            <$f> // ''
        };
        Test::More::like($log, qr/evict/i, "$name - the error log mentions evictions");
    },
}
--- json eval
[
 undef,
 { 'error.code' => 'session_not_found' },
 { version => 1 + $main::N / 50, status => 'waiting' },
 { version => 1, sessionId => 'zone-s-003000' },
 { version => 2, 'messages.0.text' => 'You said still here.' },
 undef,
 undef,
]
--- response_body_like eval
[ '.', '.', '.', '.', '.', '(?m)^ddt_\w*evict\w*(\{[^}]*\})? [1-9]', '.?' ]
--- no_error_log
[crit]
[emerg]
exited on signal



=== TEST 2: a zone too small for its projects fails at start with a clear message
--- http_config
    ddt_zone_size 8k;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/ddt.*(zone|small|size)/i
