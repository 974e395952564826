<?php
/**
 * The builder's output is exactly the fixtures the relay-side tests post.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class FixturesTest extends TestCase {

	public function test_builder_output_matches_the_fixtures_posted_to_the_relay() {
		foreach ( Relay_SMS_Fixture_Inputs::events() as $name => $event ) {
			$file = __DIR__ . '/fixtures/' . $name . '.json';
			$this->assertFileExists( $file );
			$this->assertSame( json_decode( file_get_contents( $file ), true ), json_decode( json_encode( $event ), true ), $name );
		}
	}
}
