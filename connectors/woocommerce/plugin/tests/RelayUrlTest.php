<?php
/**
 * Relay_SMS_Relay_Url: HTTPS only, plain HTTP on loopback or with the constant.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class RelayUrlTest extends TestCase {

	public function test_https_is_accepted_and_http_only_for_this_machine() {
		$this->assertSame( '', Relay_SMS_Relay_Url::problem( 'https://relay.example' ) );
		$this->assertSame( '', Relay_SMS_Relay_Url::problem( 'https://relay.example:8443/base' ) );
		$this->assertSame( 'http', Relay_SMS_Relay_Url::problem( 'http://relay.example' ) );
		$this->assertSame( '', Relay_SMS_Relay_Url::problem( 'http://relay.example', true ), 'RELAY_SMS_ALLOW_HTTP' );
		foreach ( array( 'http://127.0.0.1:8080', 'http://localhost', 'http://[::1]:9000', 'http://127.9.9.9' ) as $url ) {
			$this->assertSame( '', Relay_SMS_Relay_Url::problem( $url ), $url );
		}
		$this->assertSame( 'http', Relay_SMS_Relay_Url::problem( 'http://127.0.0.1.example' ) );
		$this->assertSame( 'http', Relay_SMS_Relay_Url::problem( 'http://localhost.example' ) );
	}

	public function test_nonsense_and_credentials_are_refused() {
		foreach ( array( '', 'relay.example', 'ftp://relay.example', 'javascript:alert(1)', 'https://', 'https://relay.example/?x=1', 'https://relay.example/#a' ) as $url ) {
			$this->assertSame( 'invalid', Relay_SMS_Relay_Url::problem( $url ), $url );
		}
		$this->assertSame( 'credentials', Relay_SMS_Relay_Url::problem( 'https://user:pw@relay.example' ) );
		$this->assertSame( 'https://relay.example', Relay_SMS_Relay_Url::normalise( ' https://relay.example/ ' ) );
	}
}
