<?php
// dns_net_dns2.php — the reference side of bench/dns: PEAR Net_DNS2
// against the same server, one lookup at a time, printing the same lines
// as dns_lookups.c ("phase lookups seconds median_ns").
//
//   php dns_net_dns2.php IP PORT NAMES_FILE ROUNDS CACHE_FILE
//
// uncached: a resolver without a cache, each name once.
// cached:   a resolver with Net_DNS2's file cache (its fastest here; see
//           bench/dns), primed with each name once, then ROUNDS x each.
require_once 'Net/DNS2.php';

[$_, $ip, $port, $names_file, $rounds, $cache_file] = $argv;
$names = file($names_file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);

function lookup($resolver, $name) {
    $answer = $resolver->query($name, 'A');
    if (count($answer->answer) == 0 || $answer->answer[0]->type != 'A') {
        fwrite(STDERR, "dns_net_dns2: $name: no A record\n");
        exit(1);
    }
}

function report($phase, $samples, $seconds) {
    sort($samples);
    printf("%s %d %.6f %d\n", $phase, count($samples), $seconds,
           $samples[intdiv(count($samples), 2)]);
}

$options = ['nameservers' => [$ip], 'dns_port' => (int)$port, 'timeout' => 5];
$plain = new Net_DNS2_Resolver($options);
$samples = [];
$start = hrtime(true);
foreach ($names as $name) {
    $t = hrtime(true);
    lookup($plain, $name);
    $samples[] = hrtime(true) - $t;
}
report('uncached', $samples, (hrtime(true) - $start) / 1e9);

$cached = new Net_DNS2_Resolver($options + [
    'cache_type' => 'file', 'cache_file' => $cache_file,
    'cache_size' => 100000000, 'cache_serializer' => 'serialize']);
foreach ($names as $name) {
    lookup($cached, $name);
}
$samples = [];
$start = hrtime(true);
for ($r = 0; $r < (int)$rounds; $r++) {
    foreach ($names as $name) {
        $t = hrtime(true);
        lookup($cached, $name);
        $samples[] = hrtime(true) - $t;
    }
}
report('cached', $samples, (hrtime(true) - $start) / 1e9);
