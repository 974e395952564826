<?php
/**
 * Writes tests/fixtures/*.json from the builder (run after changing the builder on purpose;
 * FixturesTest fails until the fixtures match, and the Python tests post these same files to
 * the relay, so a payload the relay would refuse cannot slip through).
 *
 * Usage: php tests/make-fixtures.php
 *
 * @package RelaySms
 */

require __DIR__ . '/bootstrap.php';

foreach ( Relay_SMS_Fixture_Inputs::events() as $name => $event ) {
	$json = json_encode( $event, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
	file_put_contents( __DIR__ . '/fixtures/' . $name . '.json', $json . "\n" );
	echo $name, "\n";
}
